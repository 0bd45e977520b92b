/* g711_codec: siprtpsrc/siprtpsink's own G.711 conversion gives what
 * GStreamer's mulawdec/alawdec and mulawenc/alawenc give, for every code
 * and every 16-bit sample. */

#include <gtest/gtest.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <string>
#include <vector>

#include "g711_codec.h"

using voxbridge::G711;

namespace {

/* Runs @bytes through "appsrc caps=@in_caps ! @element ! appsink" and
 * returns what came out. */
std::vector<guint8>
run_element (const char *element, const std::string & in_caps, const std::vector<guint8> & bytes)
{
  const std::string desc = "appsrc name=in format=time caps=\"" + in_caps + "\" ! " + element
      + " ! appsink name=out sync=false";
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &error);
  EXPECT_EQ (error, nullptr) << (error ? error->message : "");
  if (!pipeline)
    return {};
  GstElement *in = gst_bin_get_by_name (GST_BIN (pipeline), "in");
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GstBuffer *buffer = gst_buffer_new_memdup (bytes.data (), bytes.size ());
  GST_BUFFER_PTS (buffer) = 0;
  gst_app_src_push_buffer (GST_APP_SRC (in), buffer);
  gst_app_src_end_of_stream (GST_APP_SRC (in));
  std::vector<guint8> result;
  while (GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (out))) {
    GstMapInfo map;
    GstBuffer *b = gst_sample_get_buffer (sample);
    gst_buffer_map (b, &map, GST_MAP_READ);
    result.insert (result.end (), map.data, map.data + map.size);
    gst_buffer_unmap (b, &map);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (in);
  gst_object_unref (out);
  gst_object_unref (pipeline);
  return result;
}

const char *const kRawCaps = "audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved";

struct Case {
  G711 codec;
  const char *caps;
  const char *decoder;
  const char *encoder;
};

const Case kCases[] = {
  {G711::PCMU, "audio/x-mulaw,rate=8000,channels=1", "mulawdec", "mulawenc"},
  {G711::PCMA, "audio/x-alaw,rate=8000,channels=1", "alawdec", "alawenc"},
};

TEST (G711Codec, DecodesEveryCodeAsGStreamerDoes)
{
  for (const Case & c : kCases) {
    SCOPED_TRACE (c.decoder);
    std::vector<guint8> codes (256);
    for (int i = 0; i < 256; i++)
      codes[i] = static_cast<guint8> (i);
    const std::vector<guint8> expected = run_element (c.decoder, c.caps, codes);
    ASSERT_EQ (expected.size (), 512u);
    std::vector<gint16> ours (256);
    voxbridge::g711_decode (c.codec, codes.data (), codes.size (), ours.data ());
    for (int i = 0; i < 256; i++) {
      const gint16 theirs = static_cast<gint16> (expected[2 * i] | (expected[2 * i + 1] << 8));
      EXPECT_EQ (ours[i], theirs) << "code " << i;
    }
  }
}

TEST (G711Codec, EncodesEverySampleAsGStreamerDoes)
{
  std::vector<gint16> samples (65536);
  for (int i = 0; i < 65536; i++)
    samples[i] = static_cast<gint16> (i - 32768);
  std::vector<guint8> bytes (samples.size () * 2);
  for (size_t i = 0; i < samples.size (); i++) {
    bytes[2 * i] = static_cast<guint8> (samples[i] & 0xff);
    bytes[2 * i + 1] = static_cast<guint8> ((samples[i] >> 8) & 0xff);
  }
  for (const Case & c : kCases) {
    SCOPED_TRACE (c.encoder);
    const std::vector<guint8> expected = run_element (c.encoder, kRawCaps, bytes);
    ASSERT_EQ (expected.size (), samples.size ());
    std::vector<guint8> ours (samples.size ());
    voxbridge::g711_encode (c.codec, samples.data (), samples.size (), ours.data ());
    int differing = 0;
    for (size_t i = 0; i < samples.size (); i++) {
      if (ours[i] != expected[i] && differing++ < 5)
        ADD_FAILURE () << "sample " << samples[i] << ": ours " << int (ours[i]) << ", "
            << c.encoder << " " << int (expected[i]);
    }
    EXPECT_EQ (differing, 0);
  }
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
