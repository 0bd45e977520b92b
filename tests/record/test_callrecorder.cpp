/* callrecorder: known tones go in on the caller and AI pads at known times
 * (with a hole for lost packets and GAP silence like realtimesrc's); the
 * written file is decoded with GStreamer and each channel's tone is looked
 * for where it belongs, and nowhere else. */

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Span {
  double from_s, to_s;
  double freq;          /* 0: silence */
  bool gap = false;     /* GAP-flagged silence (realtimesrc's quiet time) */
};

struct Timed {
  GstClockTime pts;
  GstElement *src;
  GstBuffer *buffer;
};

/* The buffers of @spans for @src: 20 ms of S16 mono @rate each; a hole
 * between spans has none (packet loss). */
void
make_buffers (GstElement * src, const std::vector<Span> & spans, int rate,
    std::vector<Timed> & out)
{
  const int per_buffer = rate / 50;
  for (const Span & span : spans) {
    for (double t = span.from_s; t + 1e-9 < span.to_s; t += 0.02) {
      std::vector<gint16> pcm (per_buffer);
      for (int i = 0; i < per_buffer; i++) {
        const double time = t + static_cast<double> (i) / rate;
        pcm[i] = span.freq > 0
            ? static_cast<gint16> (12000 * std::sin (2 * kPi * span.freq * time)) : 0;
      }
      GstBuffer *buffer = gst_buffer_new_memdup (pcm.data (), pcm.size () * 2);
      GST_BUFFER_PTS (buffer) = static_cast<GstClockTime> (std::llround (t * GST_SECOND));
      GST_BUFFER_DURATION (buffer) = 20 * GST_MSECOND;
      if (span.gap)
        GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
      out.push_back ({GST_BUFFER_PTS (buffer), src, buffer});
    }
  }
}

/* Both inputs in time order at five times real time, as a call delivers
 * them (in real time): the recorder's leaky queues hold 2 s, and a burst
 * of a whole call at once would overflow them. */
void
push_in_time_order (std::vector<Timed> buffers)
{
  std::stable_sort (buffers.begin (), buffers.end (),
      [] (const Timed & a, const Timed & b) { return a.pts < b.pts; });
  GstClockTime last = 0;
  for (const Timed & t : buffers) {
    if (t.pts > last) {
      g_usleep ((t.pts - last) / GST_USECOND / 5);
      last = t.pts;
    }
    EXPECT_EQ (gst_app_src_push_buffer (GST_APP_SRC (t.src), t.buffer), GST_FLOW_OK);
  }
}

struct RecordResult {
  std::vector<std::string> finished;   /* locations of callrecorder-finished */
  std::vector<std::string> failed;     /* messages of callrecorder-failed */
  guint64 duration = 0;
  guint64 bytes = 0;
  bool error = false;
  bool eos = false;
};

/* Records the two inputs with a callrecorder set up by @configure. */
RecordResult
record (const std::vector<Span> & caller, const std::vector<Span> & ai,
    const std::string & location, const char *format,
    void (*configure) (GstElement *) = nullptr)
{
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (
      "callrecorder name=rec "
      "appsrc name=caller format=time caps=audio/x-raw,format=S16LE,rate=8000,channels=1,"
      "layout=interleaved ! mulawenc ! rec.caller "
      "appsrc name=ai format=time caps=audio/x-raw,format=S16LE,rate=24000,channels=1,"
      "layout=interleaved ! rec.ai", &err);
  EXPECT_EQ (err, nullptr) << (err ? err->message : "");
  RecordResult result;
  if (!pipeline)
    return result;
  GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  gst_util_set_object_arg (G_OBJECT (rec), "format", format);
  g_object_set (rec, "location", location.c_str (), NULL);
  if (configure)
    configure (rec);
  GstElement *caller_src = gst_bin_get_by_name (GST_BIN (pipeline), "caller");
  GstElement *ai_src = gst_bin_get_by_name (GST_BIN (pipeline), "ai");
  EXPECT_NE (gst_element_set_state (pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  std::vector<Timed> buffers;
  make_buffers (caller_src, caller, 8000, buffers);
  make_buffers (ai_src, ai, 24000, buffers);
  push_in_time_order (std::move (buffers));
  gst_app_src_end_of_stream (GST_APP_SRC (caller_src));
  gst_app_src_end_of_stream (GST_APP_SRC (ai_src));

  GstBus *bus = gst_element_get_bus (pipeline);
  while (!result.eos && !result.error) {
    GstMessage *msg = gst_bus_timed_pop (bus, 20 * GST_SECOND);
    if (!msg)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      result.eos = true;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      result.error = true;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "callrecorder-finished")) {
        result.finished.push_back (gst_structure_get_string (s, "location"));
        gst_structure_get_uint64 (s, "duration", &result.duration);
        gst_structure_get_uint64 (s, "bytes", &result.bytes);
      } else if (gst_structure_has_name (s, "callrecorder-failed")) {
        result.failed.push_back (gst_structure_get_string (s, "message"));
        /* A failed recorder still lets the call reach its end. */
      }
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (caller_src);
  gst_object_unref (ai_src);
  gst_object_unref (rec);
  gst_object_unref (pipeline);
  return result;
}

struct Decoded {
  int rate = 0;
  std::vector<gint16> samples;   /* interleaved stereo */
};

Decoded
decode (const std::string & path)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! audioconvert ! "
      "audio/x-raw,format=S16LE,channels=2,layout=interleaved ! appsink name=out sync=false",
      path.c_str ());
  GstElement *pipeline = gst_parse_launch (desc, nullptr);
  g_free (desc);
  Decoded out;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))) {
    GstStructure *s = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
    gst_structure_get_int (s, "rate", &out.rate);
    GstMapInfo map;
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    gst_buffer_map (buffer, &map, GST_MAP_READ);
    const auto *data = reinterpret_cast<const gint16 *> (map.data);
    out.samples.insert (out.samples.end (), data, data + map.size / 2);
    gst_buffer_unmap (buffer, &map);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return out;
}

struct Window {
  double rms = 0;
  double freq = 0;   /* from zero crossings */
};

/* One channel of [from_s, to_s). */
Window
analyse (const Decoded & d, int channel, double from_s, double to_s)
{
  const size_t frames = d.samples.size () / 2;
  size_t a = static_cast<size_t> (from_s * d.rate), b = static_cast<size_t> (to_s * d.rate);
  b = std::min (b, frames);
  Window w;
  if (a >= b)
    return w;
  double sum = 0;
  int crossings = 0;
  for (size_t i = a; i < b; i++) {
    const double v = d.samples[i * 2 + channel];
    sum += v * v;
    if (i > a && (d.samples[(i - 1) * 2 + channel] < 0) != (v < 0))
      crossings++;
  }
  w.rms = std::sqrt (sum / (b - a));
  w.freq = crossings / 2.0 / ((b - a) / static_cast<double> (d.rate));
  return w;
}

std::string
temp_dir ()
{
  gchar *dir = g_dir_make_tmp ("callrecorder-XXXXXX", nullptr);
  std::string out (dir);
  g_free (dir);
  return out;
}

/* Caller: 440 Hz [0, 1), lost [1, 3), silence [3, 4).
 * AI: GAP silence [0, 2), 1000 Hz [2, 3), GAP silence [3, 4). */
const std::vector<Span> kCaller = {{0.0, 1.0, 440}, {3.0, 4.0, 0}};
const std::vector<Span> kAi = {{0.0, 2.0, 0, true}, {2.0, 3.0, 1000}, {3.0, 4.0, 0, true}};

void
expect_tone (const Decoded & d, int channel, double from, double to, double freq,
    double tolerance_hz)
{
  Window w = analyse (d, channel, from, to);
  EXPECT_GT (w.rms, 3000) << "channel " << channel << " [" << from << ", " << to << ")";
  EXPECT_NEAR (w.freq, freq, tolerance_hz) << "channel " << channel << " [" << from << ", "
      << to << ")";
}

void
expect_quiet (const Decoded & d, int channel, double from, double to)
{
  EXPECT_LT (analyse (d, channel, from, to).rms, 300) << "channel " << channel << " ["
      << from << ", " << to << ")";
}

TEST (CallRecorder, WavHoldsCallerLeftAndAiRightWhereTheyHappened)
{
  const std::string dir = temp_dir ();
  const std::string path = dir + "/call.wav";
  RecordResult r = record (kCaller, kAi, path, "wav");
  ASSERT_TRUE (r.eos);
  EXPECT_FALSE (r.error);
  ASSERT_EQ (r.finished.size (), 1u);
  EXPECT_EQ (r.finished[0], path);
  EXPECT_TRUE (r.failed.empty ());
  EXPECT_FALSE (g_file_test ((path + ".part").c_str (), G_FILE_TEST_EXISTS));
  EXPECT_NEAR (r.duration / 1e9, 4.0, 0.03);

  GStatBuf st;
  ASSERT_EQ (g_stat (path.c_str (), &st), 0);
  EXPECT_EQ (r.bytes, static_cast<guint64> (st.st_size));

  Decoded d = decode (path);
  ASSERT_EQ (d.rate, 8000);
  EXPECT_NEAR (d.samples.size () / 2 / 8000.0, 4.0, 0.03);
  /* Windows stay 50 ms clear of each edge. */
  expect_tone (d, 0, 0.05, 0.95, 440, 15);
  expect_quiet (d, 0, 1.05, 3.95);
  expect_quiet (d, 1, 0.05, 1.95);
  expect_tone (d, 1, 2.05, 2.95, 1000, 25);
  expect_quiet (d, 1, 3.05, 3.95);
  g_printerr ("wav: %" G_GUINT64_FORMAT " bytes, %.3f s\n", r.bytes, r.duration / 1e9);
}

TEST (CallRecorder, OggOpusHoldsTheSameLayout)
{
  const std::string dir = temp_dir ();
  const std::string path = dir + "/call.ogg";
  RecordResult r = record (kCaller, kAi, path, "ogg");
  ASSERT_TRUE (r.eos);
  ASSERT_EQ (r.finished.size (), 1u);
  EXPECT_FALSE (g_file_test ((path + ".part").c_str (), G_FILE_TEST_EXISTS));
  Decoded d = decode (path);
  ASSERT_GT (d.rate, 0);
  EXPECT_NEAR (d.samples.size () / 2.0 / d.rate, 4.0, 0.1);
  /* Opus is lossy: energy in the right places, pitch roughly. */
  expect_tone (d, 0, 0.1, 0.9, 440, 40);
  expect_quiet (d, 0, 1.2, 3.9);
  expect_quiet (d, 1, 0.1, 1.9);
  expect_tone (d, 1, 2.1, 2.9, 1000, 60);
  g_printerr ("ogg: %" G_GUINT64_FORMAT " bytes\n", r.bytes);
}

TEST (CallRecorder, StartTimeIsSampleZero)
{
  const std::string dir = temp_dir ();
  const std::string path = dir + "/late.wav";
  RecordResult r = record (kCaller, kAi, path, "wav", [] (GstElement * rec) {
        g_object_set (rec, "start-time", (guint64) GST_SECOND, NULL);
      });
  ASSERT_EQ (r.finished.size (), 1u);
  Decoded d = decode (path);
  EXPECT_NEAR (d.samples.size () / 2 / 8000.0, 3.0, 0.03);
  /* The caller's tone was before the start: not in the file. */
  expect_quiet (d, 0, 0.0, 2.95);
  expect_tone (d, 1, 1.05, 1.95, 1000, 25);
}

TEST (CallRecorder, HoldDropsEverything)
{
  const std::string dir = temp_dir ();
  const std::string path = dir + "/held.wav";
  RecordResult r = record (kCaller, kAi, path, "wav", [] (GstElement * rec) {
        g_object_set (rec, "hold", TRUE, NULL);
      });
  ASSERT_TRUE (r.eos);
  ASSERT_EQ (r.finished.size (), 1u);
  Decoded d = decode (path);
  EXPECT_LT (d.samples.size () / 2, 8000u / 10);
}

TEST (CallRecorder, ASideThatNeverCarriedAnythingStillFinishes)
{
  /* Live, as on a call: no RTP ever came from the caller (not even caps),
   * the AI spoke; EOS at hang-up still gives a whole file. */
  const std::string path = temp_dir () + "/one-sided.wav";
  GstElement *pipeline = gst_parse_launch ("callrecorder name=rec "
      "appsrc is-live=true format=time caps=audio/x-mulaw,rate=8000,channels=1 ! rec.caller "
      "audiotestsrc is-live=true freq=1000 ! audio/x-raw,rate=24000,channels=1 ! rec.ai",
      nullptr);
  ASSERT_NE (pipeline, nullptr);
  GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  g_object_set (rec, "location", path.c_str (), NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_usleep (1500 * 1000);
  gst_element_send_event (pipeline, gst_event_new_eos ());
  GstBus *bus = gst_element_get_bus (pipeline);
  bool finished = false, failed = false, eos = false;
  while (!eos) {
    GstMessage *msg = gst_bus_timed_pop (bus, 20 * GST_SECOND);
    if (!msg)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
      eos = true;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      finished |= gst_message_has_name (msg, "callrecorder-finished");
      failed |= gst_message_has_name (msg, "callrecorder-failed");
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (rec);
  gst_object_unref (pipeline);
  EXPECT_TRUE (eos);
  EXPECT_TRUE (finished);
  EXPECT_FALSE (failed);
  Decoded d = decode (path);
  const double seconds = d.samples.size () / 2 / 8000.0;
  EXPECT_GT (seconds, 1.0);
  expect_quiet (d, 0, 0.0, seconds);
  /* The AI side is in the file. (Not checked: that it is whole — while one
   * side has never had caps the interleaver's latency query fails and it
   * can drop in-time audio of the other side as late: a known limitation.) */
  EXPECT_GT (analyse (d, 1, 0.0, seconds).rms, 3000);
}

/* The element inside @rec made by @factory (a new reference). */
GstElement *
inner_element (GstElement * rec, const char *factory)
{
  GstElement *found = nullptr;
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (rec));
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), factory))
      found = GST_ELEMENT (gst_object_ref (e));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

TEST (CallRecorder, InterleaverGetsTheClockOnlyWithItsBaseTime)
{
  /* A pipeline hands out its clock before the base time reaches nested
   * elements; a live interleaver running in between took absolute clock
   * time for running time and wrote seconds of silence ahead of the call. */
  const std::string path = temp_dir () + "/clock.wav";
  GstElement *pipeline = gst_parse_launch ("callrecorder name=rec "
      "audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! rec.caller "
      "audiotestsrc is-live=true freq=880 ! audio/x-raw,rate=8000,channels=1 ! rec.ai",
      nullptr);
  ASSERT_NE (pipeline, nullptr);
  GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  g_object_set (rec, "location", path.c_str (), NULL);
  GstElement *interleave = inner_element (rec, "audiointerleave");
  ASSERT_NE (interleave, nullptr);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  GstClock *clock = gst_system_clock_obtain ();
  gst_element_set_clock (pipeline, clock);   /* what a pipeline does first */
  EXPECT_EQ (GST_ELEMENT_CLOCK (rec), clock);
  EXPECT_EQ (GST_ELEMENT_CLOCK (interleave), nullptr);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, nullptr, nullptr, 5 * GST_SECOND);
  EXPECT_NE (GST_ELEMENT_CLOCK (interleave), nullptr);
  EXPECT_EQ (gst_element_get_base_time (interleave), gst_element_get_base_time (rec));
  EXPECT_NE (gst_element_get_base_time (interleave), 0u);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (clock);
  gst_object_unref (interleave);
  gst_object_unref (rec);
  gst_object_unref (pipeline);
}

TEST (CallRecorder, UnwritableDirectoryFailsTheRecordingNotTheGraph)
{
  const std::string path = temp_dir () + "/no/such/dir/call.wav";
  RecordResult r = record (kCaller, kAi, path, "wav");
  EXPECT_FALSE (r.error);   /* no ERROR on the bus: the call would go on */
  EXPECT_EQ (r.failed.size (), 1u);
  EXPECT_TRUE (r.finished.empty ());
  EXPECT_FALSE (g_file_test (path.c_str (), G_FILE_TEST_EXISTS));
}

TEST (CallRecorder, StoppedWithoutEosLeavesOnlyThePartFile)
{
  const std::string dir = temp_dir ();
  const std::string path = dir + "/cut.wav";
  GstElement *pipeline = gst_parse_launch ("callrecorder name=rec "
      "audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! rec.caller "
      "audiotestsrc is-live=true freq=880 ! audio/x-raw,rate=8000,channels=1 ! rec.ai",
      nullptr);
  ASSERT_NE (pipeline, nullptr);
  GstElement *rec = gst_bin_get_by_name (GST_BIN (pipeline), "rec");
  g_object_set (rec, "location", path.c_str (), NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_usleep (700 * 1000);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  EXPECT_FALSE (g_file_test (path.c_str (), G_FILE_TEST_EXISTS));
  EXPECT_TRUE (g_file_test ((path + ".part").c_str (), G_FILE_TEST_EXISTS));
  gst_object_unref (rec);
  gst_object_unref (pipeline);
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  ::testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
