#pragma once
/* The stereo recording of one call: what we sent on the left channel, what
 * the far end sent on the right, both placed by their time since the answer.
 * Audio arrives as 8 kHz mono S16 chunks stamped with their running time;
 * write_wav() lays the chunks out (silence where nothing was heard) and
 * encodes the WAV with GStreamer's wavenc.
 *
 * Thread-safe: the chunks come from streaming threads. */

#include <gst/gst.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace voxbridge::call {

constexpr int kRecordingRate = 8000;

enum class Channel { kCaller = 0, kFarEnd = 1 };

class CallRecording {
 public:
  /* @running_time: the pipeline running time of the chunk's first sample. */
  void add (Channel channel, GstClockTime running_time, const gint16 *samples,
      size_t count);
  /* The running time of the answer (negative: before the pipeline started),
   * sample 0 of the recording. */
  void set_origin (GstClockTimeDiff running_time);

  /* Keeps only the first @ms of @channel's audio: the caller's side is read
   * ahead of the wire, and only what was sent belongs in the recording. */
  void limit (Channel channel, guint64 ms);

  /* Milliseconds of audio collected for @channel (up to its limit). */
  guint64 received_ms (Channel channel) const;

  /* Writes the interleaved stereo WAV; false and @error on failure.
   * @duration_ms gets the recording's length. */
  bool write_wav (const std::string &path, guint64 *duration_ms,
      std::string *error) const;

 private:
  struct Chunk {
    GstClockTime running_time;
    std::vector<gint16> samples;
  };
  std::vector<gint16> lay_out (Channel channel) const;

  mutable std::mutex lock_;
  GstClockTimeDiff origin_ = 0;
  std::vector<Chunk> chunks_[2];
  size_t samples_[2] = {0, 0};
  size_t limit_[2] = {SIZE_MAX, SIZE_MAX};
};

}  // namespace voxbridge::call
