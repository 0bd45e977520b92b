#pragma once
/* Media measurements of one call's graphs, for /metrics and the per-call
 * summary in the call.ended event:
 *  - caller -> AI latency: a buffer's timestamp (its RTP packet's arrival at
 *    siprtpsrc, as its reorder buffer stamps it) to its hand-off at
 *    realtimesink, by a pad probe on realtimesink's sink pad;
 *  - AI -> caller latency: how late model audio goes out on RTP against its
 *    playout time: at siprtpsink's sink pad, (running time - the timestamp
 *    realtimesrc gave it) plus the audio siprtpsink still has queued ahead
 *    of it (queued-ms). Time the audio waits in realtimesrc because the
 *    model sends faster than real time is playout, not delay, and is left out;
 *  - RTP packets in/out, lost, late, duplicate and model audio discarded in
 *    the graph, from siprtpsrc/siprtpsink stats at teardown.
 * The probes run on streaming threads and cost one clock read and a few
 * atomic adds per 20 ms buffer. */

#include "launcher_metrics.h"

#include <gst/gst.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace voxbridge::launcher {

/* Fixed log-scale buckets (10 % wide, 50 us .. 10 s) for per-call latency
 * percentiles without keeping every sample. Thread-safe. */
class LatencySketch {
 public:
  static constexpr size_t kBuckets = 130;
  void add (double seconds);
  uint64_t count () const;
  /* Upper bound of the bucket holding the @p-th percentile (nearest rank), s; 0 when empty. */
  double percentile (double p) const;

  static size_t bucket_of (double seconds);
  static double upper_bound (size_t bucket);

 private:
  std::array<std::atomic<uint32_t>, kBuckets> counts_ {};
};

struct CallMediaTotals {
  guint64 packets_in = 0, packets_out = 0, lost = 0, late = 0, duplicate = 0;
  guint64 discarded_ms = 0;
};

class CallMediaMetrics {
 public:
  explicit CallMediaMetrics (LauncherMetrics & metrics) : metrics_ (metrics) {}
  ~CallMediaMetrics ();
  CallMediaMetrics (const CallMediaMetrics &) = delete;
  CallMediaMetrics & operator= (const CallMediaMetrics &) = delete;

  /* Probes @pipeline's realtimesink and siprtpsink sink pads (every graph
   * of the call; the fallback graph too). */
  void attach (GstElement * pipeline);
  /* Before @pipeline goes to NULL: its RTP counters into the metrics and the
   * call's totals. */
  void finish (GstElement * pipeline);

  /* Fields for call.ended: packets_in, packets_out, rtp_lost, rtp_late,
   * rtp_duplicate, audio_discarded_ms, latency_to_ai_p50_ms / _p99_ms,
   * latency_to_caller_p50_ms / _p99_ms (latencies only when measured). */
  std::vector<std::pair<std::string, std::string>> summary () const;

  const CallMediaTotals & totals () const { return totals_; }
  const LatencySketch & to_ai () const { return shared_->to_ai; }
  const LatencySketch & to_caller () const { return shared_->to_caller; }

 private:
  /* What the probes touch; outlives the graphs through the probes' refs. */
  struct Shared {
    Histogram *to_ai_histogram = nullptr;
    Histogram *to_caller_histogram = nullptr;
    LatencySketch to_ai;
    LatencySketch to_caller;
  };
  static GstPadProbeReturn on_to_ai_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data);
  static GstPadProbeReturn on_to_caller_buffer (GstPad * pad, GstPadProbeInfo * info,
      gpointer data);

  LauncherMetrics & metrics_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared> ();
  CallMediaTotals totals_;
};

}  // namespace voxbridge::launcher
