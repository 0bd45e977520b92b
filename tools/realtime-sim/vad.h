#pragma once

/* A simple energy voice activity detector for the sim's server_vad.
 *
 * Audio is cut into 10 ms frames; a frame is "voiced" when its RMS level in
 * dBFS reaches the threshold level. turn_detection.threshold (0..1, higher =
 * less sensitive, as in the real service) maps linearly to a level:
 *
 *     level_dbfs = -60 + 50 * threshold      (0.5 -> -35 dBFS, 1.0 -> -10 dBFS)
 *
 * Speech starts after kStartFrames consecutive voiced frames; the reported
 * audio_start_ms is the first voiced frame minus prefix_padding_ms (not before
 * 0). Speech stops once silence_duration_ms of unvoiced audio followed the last
 * voiced frame; audio_end_ms is that moment (it includes the silence, as the
 * real service's does). Positions are ms of input audio since the session
 * started. */

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxbridge::sim {

struct VadSettings {
  double threshold = 0.5;
  int prefix_padding_ms = 300;
  int silence_duration_ms = 500;
};

double vad_threshold_to_dbfs (double threshold);

struct VadEvent {
  enum class Kind { kSpeechStarted, kSpeechStopped };
  Kind kind;
  int64_t audio_ms;   /* audio_start_ms or audio_end_ms */
  int64_t speech_ms;  /* stopped only: first to last voiced frame */
};

class EnergyVad {
 public:
  static constexpr int kFrameMs = 10;
  static constexpr int kStartFrames = 3;

  EnergyVad (VadSettings settings, int sample_rate);

  /* Feeds consecutive samples; returns the events they caused, in order. */
  std::vector<VadEvent> process (const int16_t *samples, size_t n_samples);

  bool in_speech () const { return in_speech_; }
  int64_t position_ms () const { return frames_done_ * kFrameMs; }
  /* Forget an utterance in progress (input_audio_buffer.clear). */
  void reset_speech ();

 private:
  void on_frame (double dbfs, std::vector<VadEvent> *events);

  VadSettings settings_;
  int frame_samples_;
  double level_dbfs_;
  std::vector<int16_t> partial_;
  int64_t frames_done_ = 0;
  bool in_speech_ = false;
  int voiced_run_ = 0;
  int64_t first_voiced_frame_ = 0;
  int64_t last_voiced_frame_ = 0;
};

}  // namespace voxbridge::sim
