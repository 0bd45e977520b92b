/* Registration of the launcher's metrics (names follow Prometheus naming:
 * base units, _total for counters). */

#include "launcher_metrics.h"

namespace voxbridge::launcher {

LauncherMetrics::LauncherMetrics (MetricsRegistry & registry)
  : calls_active (registry.add_gauge ("voxbridge_calls_active",
          "Calls currently connected to a pipeline.")),
    calls_total (registry.add_counter ("voxbridge_calls_total",
          "Calls that ended, by outcome.", {"outcome"})),
    rtp_packets_total (registry.add_counter ("voxbridge_rtp_packets_total",
          "RTP packets received from (in) and sent to (out) callers.", {"direction"})),
    rtp_packets_dropped_total (registry.add_counter ("voxbridge_rtp_packets_dropped_total",
          "RTP packets dropped, by reason.", {"reason"})),
    ai_events_total (registry.add_counter ("voxbridge_ai_events_total",
          "Realtime API server events received, by event type.", {"type"})),
    errors_total (registry.add_counter ("voxbridge_errors_total",
          "Errors, by cause.", {"cause"})),
    call_duration_seconds (registry.add_histogram ("voxbridge_call_duration_seconds",
          "Duration of answered calls.", {},
          {5, 15, 30, 60, 120, 300, 600, 1800, 3600})),
    ai_response_latency_seconds (registry.add_histogram (
          "voxbridge_ai_response_latency_seconds",
          "Time from the end of caller speech to the first audio of the model.", {},
          {0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5}))
{
}

}  // namespace voxbridge::launcher
