#include "call_recording.h"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <cstddef>

namespace voxbridge::call {

namespace {

/* A chunk stamped within this much of where the previous one ended continues
 * it: timestamps jitter by a few ms and must not leave clicks or overlaps. */
constexpr size_t kContinuitySlack = kRecordingRate / 50;   /* 20 ms */

}  // namespace

void
CallRecording::add (Channel channel, GstClockTime running_time,
    const gint16 *samples, size_t count)
{
  std::lock_guard<std::mutex> guard (lock_);
  const int index = static_cast<int> (channel);
  chunks_[index].push_back (Chunk {running_time,
        std::vector<gint16> (samples, samples + count)});
  samples_[index] += count;
}

void
CallRecording::set_origin (GstClockTimeDiff running_time)
{
  std::lock_guard<std::mutex> guard (lock_);
  origin_ = running_time;
}

void
CallRecording::limit (Channel channel, guint64 ms)
{
  std::lock_guard<std::mutex> guard (lock_);
  limit_[static_cast<int> (channel)] =
      static_cast<size_t> (ms * kRecordingRate / 1000);
}

guint64
CallRecording::received_ms (Channel channel) const
{
  std::lock_guard<std::mutex> guard (lock_);
  const int index = static_cast<int> (channel);
  return std::min (samples_[index], limit_[index]) * 1000 / kRecordingRate;
}

/* Called with the lock held. */
std::vector<gint16>
CallRecording::lay_out (Channel channel) const
{
  std::vector<gint16> out;
  size_t left = limit_[static_cast<int> (channel)];
  for (const Chunk &chunk : chunks_[static_cast<int> (channel)]) {
    if (left == 0)
      break;
    size_t position = out.size ();
    if (GST_CLOCK_TIME_IS_VALID (chunk.running_time)) {
      const GstClockTimeDiff since_answer =
          static_cast<GstClockTimeDiff> (chunk.running_time) - origin_;
      if (since_answer > 0)
        position = static_cast<size_t> (gst_util_uint64_scale (
                static_cast<guint64> (since_answer), kRecordingRate, GST_SECOND));
    }
    if (position > out.size () + kContinuitySlack)
      out.resize (position, 0);
    const size_t take = std::min (left, chunk.samples.size ());
    out.insert (out.end (), chunk.samples.begin (),
        chunk.samples.begin () + static_cast<std::ptrdiff_t> (take));
    left -= take;
  }
  return out;
}

bool
CallRecording::write_wav (const std::string &path, guint64 *duration_ms,
    std::string *error) const
{
  std::vector<gint16> left, right;
  {
    std::lock_guard<std::mutex> guard (lock_);
    left = lay_out (Channel::kCaller);
    right = lay_out (Channel::kFarEnd);
  }
  const size_t frames = std::max (left.size (), right.size ());
  left.resize (frames, 0);
  right.resize (frames, 0);
  if (duration_ms != nullptr)
    *duration_ms = frames * 1000 / kRecordingRate;

  GstBuffer *buffer = gst_buffer_new_allocate (nullptr,
      frames * 2 * sizeof (gint16), nullptr);
  GstMapInfo map;
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  auto *interleaved = reinterpret_cast<gint16 *> (map.data);
  for (size_t i = 0; i < frames; i++) {
    interleaved[2 * i] = GINT16_TO_LE (left[i]);
    interleaved[2 * i + 1] = GINT16_TO_LE (right[i]);
  }
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_PTS (buffer) = 0;
  GST_BUFFER_DURATION (buffer) =
      gst_util_uint64_scale (frames, GST_SECOND, kRecordingRate);

  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (
      "appsrc name=audio format=time caps=audio/x-raw,format=S16LE,"
      "layout=interleaved,rate=8000,channels=2,channel-mask=(bitmask)0x3 "
      "! wavenc ! filesink name=file", &err);
  if (pipeline == nullptr) {
    *error = std::string ("cannot build the WAV writer: ") + err->message;
    g_error_free (err);
    gst_buffer_unref (buffer);
    return false;
  }
  GstElement *file = gst_bin_get_by_name (GST_BIN (pipeline), "file");
  g_object_set (file, "location", path.c_str (), nullptr);
  gst_object_unref (file);
  GstElement *appsrc = gst_bin_get_by_name (GST_BIN (pipeline), "audio");
  gst_app_src_push_buffer (GST_APP_SRC (appsrc), buffer);
  gst_app_src_end_of_stream (GST_APP_SRC (appsrc));
  gst_object_unref (appsrc);

  bool ok = true;
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    ok = false;
    *error = "cannot write " + path;
  }
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message = ok ? gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR)) :
      nullptr;
  if (ok && message == nullptr) {
    ok = false;
    *error = "timed out writing " + path;
  } else if (message != nullptr && GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    GError *gerr = nullptr;
    gst_message_parse_error (message, &gerr, nullptr);
    ok = false;
    *error = "cannot write " + path + ": " + gerr->message;
    g_error_free (gerr);
  }
  if (message != nullptr)
    gst_message_unref (message);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

}  // namespace voxbridge::call
