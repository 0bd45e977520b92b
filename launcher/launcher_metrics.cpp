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
          {0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5})),
    rtp_packets_lost_total (registry.add_counter ("voxbridge_rtp_packets_lost_total",
          "RTP packets from callers that never arrived (sequence gaps at siprtpsrc's reorder buffer).")),
    rtp_packets_duplicate_total (registry.add_counter ("voxbridge_rtp_packets_duplicate_total",
          "RTP packets from callers that arrived more than once.")),
    audio_discarded_seconds_total (registry.add_counter (
          "voxbridge_audio_discarded_seconds_total",
          "Model audio discarded in the graph instead of being sent to the caller.")),
    media_latency_to_ai_seconds (registry.add_histogram (
          "voxbridge_media_latency_to_ai_seconds",
          "Caller audio: RTP arrival at siprtpsrc to its hand-off at realtimesink.", {},
          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5})),
    media_latency_to_caller_seconds (registry.add_histogram (
          "voxbridge_media_latency_to_caller_seconds",
          "Model audio: its playout time at realtimesrc to its RTP packet leaving siprtpsink.",
          {}, {0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.2, 0.5, 1})),
    call_setup_seconds (registry.add_histogram ("voxbridge_call_setup_seconds",
          "Call setup: INVITE received (inbound) or sent (outbound) to the 200 OK, "
          "including the AI session's connect time.", {"direction"},
          {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10})),
    ai_connect_seconds (registry.add_histogram ("voxbridge_ai_connect_seconds",
          "AI session connect: opening the Realtime connection (TCP, TLS, upgrade) to the "
          "server confirming the session's configuration; reconnects included.", {},
          {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10})),
    barge_ins_total (registry.add_counter ("voxbridge_barge_ins_total",
          "Callers interrupting the model, by what the truncate's audio_end_ms was counted "
          "from (wire: audio sent over RTP; elapsed: time).", {"counted_at"})),
    barge_in_dropped_audio_seconds (registry.add_histogram (
          "voxbridge_barge_in_dropped_audio_seconds",
          "Model audio already received and dropped unplayed at a barge-in.", {},
          {0.1, 0.25, 0.5, 1, 2, 5, 10, 30})),
    tool_calls_total (registry.add_counter ("voxbridge_tool_calls_total",
          "Function calls of the model, by tool and result (ok, error).", {"tool", "result"}))
{
}

}  // namespace voxbridge::launcher
