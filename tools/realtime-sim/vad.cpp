#include "vad.h"

#include <algorithm>
#include <cmath>

namespace voxbridge::sim {

double
vad_threshold_to_dbfs (double threshold)
{
  return -60.0 + 50.0 * std::clamp (threshold, 0.0, 1.0);
}

EnergyVad::EnergyVad (VadSettings settings, int sample_rate)
    : settings_ (settings),
      frame_samples_ (sample_rate * kFrameMs / 1000),
      level_dbfs_ (vad_threshold_to_dbfs (settings.threshold))
{
}

void
EnergyVad::reset_speech ()
{
  in_speech_ = false;
  voiced_run_ = 0;
}

std::vector<VadEvent>
EnergyVad::process (const int16_t *samples, size_t n_samples)
{
  std::vector<VadEvent> events;
  size_t i = 0;
  while (i < n_samples) {
    size_t take = std::min (n_samples - i, static_cast<size_t> (frame_samples_) - partial_.size ());
    partial_.insert (partial_.end (), samples + i, samples + i + take);
    i += take;
    if (partial_.size () < static_cast<size_t> (frame_samples_))
      break;
    double sum = 0;
    for (int16_t s : partial_)
      sum += static_cast<double> (s) * s;
    double rms = std::sqrt (sum / frame_samples_) / 32768.0;
    double dbfs = rms > 0 ? 20.0 * std::log10 (rms) : -120.0;
    partial_.clear ();
    on_frame (dbfs, &events);
  }
  return events;
}

void
EnergyVad::on_frame (double dbfs, std::vector<VadEvent> *events)
{
  int64_t frame = frames_done_++;
  bool voiced = dbfs >= level_dbfs_;

  if (!in_speech_) {
    if (!voiced) {
      voiced_run_ = 0;
      return;
    }
    if (voiced_run_ == 0)
      first_voiced_frame_ = frame;
    last_voiced_frame_ = frame;
    if (++voiced_run_ >= kStartFrames) {
      in_speech_ = true;
      int64_t start = std::max<int64_t> (0,
          first_voiced_frame_ * kFrameMs - settings_.prefix_padding_ms);
      events->push_back ({VadEvent::Kind::kSpeechStarted, start, 0});
    }
    return;
  }

  if (voiced) {
    last_voiced_frame_ = frame;
    return;
  }
  int64_t silence_ms = (frame - last_voiced_frame_) * kFrameMs;
  if (silence_ms >= settings_.silence_duration_ms) {
    in_speech_ = false;
    voiced_run_ = 0;
    int64_t end = (frame + 1) * kFrameMs;
    int64_t speech = (last_voiced_frame_ + 1 - first_voiced_frame_) * kFrameMs;
    events->push_back ({VadEvent::Kind::kSpeechStopped, end, speech});
  }
}

}  // namespace voxbridge::sim
