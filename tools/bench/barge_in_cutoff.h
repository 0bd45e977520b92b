#pragma once
/* Barge-in cut-off as a caller hears it: from the moment the off-line
 * Realtime server sent input_audio_buffer.speech_started (its timing log)
 * to the arrival of the last packet of the interrupted answer at the
 * caller (the benchmark's RTP trace), both CLOCK_MONOTONIC.
 *
 * The launcher fills the model's quiet time with PCMU silence (0xFF), so a
 * received packet that is not all 0xFF carries the model's audio. An
 * interruption counts when the model's audio was arriving at that moment
 * (a speaking packet within one @lead before it); its answer's last
 * packet is the last speaking one before the next answer began (the
 * server's first audio delta after the interruption) or @window after it,
 * whichever is first. A pause inside the answer's own speech may end the
 * run early: the figure is then what the caller heard, not what was sent. */

#include "timing_correlation.h"

#include <cstdint>
#include <vector>

namespace voxbridge::bench {

struct BargeInCutoffs {
  std::vector<double> cutoff_ms;  /* one per interruption; <= 0: nothing after it */
  size_t idle_speech_starts = 0;  /* speech_started while no answer was playing */
};

BargeInCutoffs barge_in_cutoffs (const CallerTrace &trace, const SimSessionLog &log,
    int64_t lead_ns = 60'000'000, int64_t window_ns = 1'000'000'000);

}  // namespace voxbridge::bench
