#pragma once
/* The metrics the launcher exports on GET /metrics. */

#include "metrics_registry.h"

namespace voxbridge::launcher {

struct LauncherMetrics {
  explicit LauncherMetrics (MetricsRegistry & registry);

  Gauge & calls_active;              /* calls with a running pipeline */
  Counter & calls_total;             /* {outcome}: completed, cancelled (by the caller before the answer),
                                        unanswered (outbound), failed, no_route */
  Counter & rtp_packets_total;       /* {direction}: in, out */
  Counter & rtp_packets_dropped_total;  /* {reason}: late, malformed, queue_full, send_buffer_full, send_error */
  Counter & ai_events_total;         /* {type}: Realtime server event type */
  Counter & errors_total;            /* {cause}: sip, pipeline, ai, http */
  Histogram & call_duration_seconds; /* answered calls, answer to hang-up */
  Histogram & ai_response_latency_seconds;  /* end of caller speech to first model audio */
  /* call_media_metrics.h says what exactly these measure. */
  Counter & rtp_packets_lost_total;      /* never arrived from the caller */
  Counter & rtp_packets_duplicate_total; /* arrived twice from the caller */
  Counter & audio_discarded_seconds_total;  /* model audio siprtpsink could not send */
  Histogram & media_latency_to_ai_seconds;      /* RTP arrival -> realtimesink hand-off */
  Histogram & media_latency_to_caller_seconds;  /* model audio due -> on the RTP wire */
  Histogram & call_setup_seconds;        /* {direction}: INVITE -> 200 OK */
  Histogram & ai_connect_seconds;        /* Realtime connect to session configured */
  Counter & barge_ins_total;             /* {counted_at}: wire, elapsed (truncate's basis) */
  Histogram & barge_in_dropped_audio_seconds;  /* queued model audio dropped per barge-in */
  Counter & tool_calls_total;            /* {tool, result}: ok, error */
};

}  // namespace voxbridge::launcher
