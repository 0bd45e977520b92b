/* Barge-in cut-off from the server's speech_started and the caller's RTP. */

#include "barge_in_cutoff.h"

#include <algorithm>

namespace voxbridge::bench {

namespace {

constexpr uint8_t kPcmuSilence = 0xFF;

/* Whether received packet @i carries anything but PCMU silence. */
bool
speaking (const CallerTrace &t, size_t i)
{
  const size_t begin = t.received_offsets[i];
  const size_t end = i + 1 < t.received_offsets.size () ? t.received_offsets[i + 1]
                                                        : t.received.size ();
  for (size_t b = begin; b < end; b++)
    if (t.received[b] != kPcmuSilence)
      return true;
  return false;
}

}  // namespace

BargeInCutoffs
barge_in_cutoffs (const CallerTrace &t, const SimSessionLog &log, int64_t lead_ns,
    int64_t window_ns)
{
  BargeInCutoffs result;
  if (t.received_offsets.size () != t.received_ns.size ())
    return result;
  for (const int64_t started : log.speech_started_ns) {
    /* The next answer's audio starts no earlier than the server's first
     * delta after the interruption. */
    int64_t until = started + window_ns;
    for (const SimChunk &chunk : log.out) {
      if (chunk.t_ns > started) {
        until = std::min (until, chunk.t_ns);
        break;
      }
    }
    bool playing = false;
    int64_t last = 0;
    auto first = std::lower_bound (t.received_ns.begin (), t.received_ns.end (),
        started - lead_ns);
    for (size_t i = static_cast<size_t> (first - t.received_ns.begin ());
         i < t.received_ns.size () && t.received_ns[i] < until; i++) {
      if (!speaking (t, i))
        continue;
      if (t.received_ns[i] <= started)
        playing = true;
      last = t.received_ns[i];
    }
    if (!playing) {
      result.idle_speech_starts++;
      continue;
    }
    result.cutoff_ms.push_back (static_cast<double> (last - started) / 1e6);
  }
  return result;
}

}  // namespace voxbridge::bench
