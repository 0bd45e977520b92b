#pragma once
/* One call of the daemon: its route, its pipeline and the state machine that
 * ties the SIP call (sipd) to the graph.
 *
 *   inbound:  INVITE -> route -> render/build -> PLAYING -> AI session ready
 *             (or at once when the graph has no realtimesink) -> 200 OK
 *   outbound: dial -> remote answers -> route's graph -> PLAYING
 *   then:     BYE from either side -> graph to NULL
 *             graph error after the answer -> fallback graph (a prompt to
 *             the caller) -> EOS -> BYE; the caller is never left in silence
 *
 * Refusals before the answer: no route 404, bad pipeline 500, graph not
 * PLAYING 500, AI failed or not ready in time 503.
 *
 * Runs on the daemon's main context; owned by the Daemon as a shared_ptr. */

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>

#include "call_control.h"
#include "call_event.h"
#include "caller_silence.h"
#include "dtmf_collector.h"
#include "call_facts.h"
#include "call_recording.h"
#include "call_media_metrics.h"
#include "call_tools.h"
#include "call_transfer.h"
#include "deployment_config.h"
#include "launcher_metrics.h"
#include "pipeline_template.h"
#include "sipd.h"

namespace voxbridge::launcher {

/* What a call session needs from the daemon. */
class CallSessionHost {
 public:
  virtual ~CallSessionHost () = default;
  virtual const DeploymentConfig & config () const = 0;
  virtual LauncherMetrics & metrics () = 0;
  /* Writes the event to the call event log and the live event stream. */
  virtual void publish (CallEvent event) = 0;
  /* Places a call that belongs to this session (a transfer's leg to the
   * target); it gets no session of its own. */
  virtual sipd::CallPtr dial_leg (const sipd::DialRequest & request, std::string * error) = 0;
};

class CallSession : public std::enable_shared_from_this<CallSession> {
 public:
  enum class Phase {
    kRouting,       /* inbound, before the graph runs */
    kWaitingForAi,  /* inbound, graph PLAYING, waiting for realtime-session-ready */
    kDialing,       /* outbound, waiting for the remote to answer */
    kConnected,     /* answered, main graph running */
    kFallback,      /* answered, main graph failed, fallback graph running */
    kEnding,        /* hang-up or refusal sent, waiting for sipd's ended */
    kEnded,
  };

  CallSession (CallSessionHost & host, sipd::CallPtr call, CallFacts facts);
  ~CallSession ();
  CallSession (const CallSession &) = delete;
  CallSession & operator= (const CallSession &) = delete;

  /* Inbound: picks the route, starts the graph and answers or refuses. */
  void start_inbound ();
  /* Outbound: @route runs once the remote answers; @extra_vars become var.*. */
  void start_outbound (const Route & route, const PipelineVariables & extra_vars);

  /* sipd callbacks for this call. */
  void on_state_changed (sipd::CallState state);
  void on_hold_changed (bool held);
  void on_sip_dtmf (char digit, guint duration_ms);
  void on_ended (const sipd::CallEnd & end);

  /* DELETE /calls/{id}, shutdown. */
  void hang_up (const std::string & reason);

  /* transfer_call (call_transfer.h) to the route's transfer-target;
   * @arguments_json is the model's {"reason": ...}. @reply gets the
   * function output when the transfer fails and the caller stays with the
   * AI (or at once when a transfer cannot start). */
  void start_transfer (const std::string & arguments_json,
      std::function<void (const std::string & output)> reply);

  const std::string & id () const { return facts_.call_id; }
  Phase phase () const { return phase_; }
  CallInfo info (bool details) const;

 private:
  static gboolean on_bus_message (GstBus * bus, GstMessage * message, gpointer data);
  static gboolean on_ai_timeout (gpointer data);
  static gboolean on_fallback_timeout (gpointer data);

  void handle_bus_message (GstMessage * message);
  void handle_element_message (GstMessage * message);
  void handle_error (GstMessage * message);
  void handle_eos ();

  /* Renders and builds @file with vars_, sets it PLAYING and watches its
   * bus; on failure logs why (file:line) and returns FALSE. */
  bool run_graph (const std::string & file, const char *what);
  void stop_graph ();
  /* Adds the graph's siprtpsrc/siprtpsink counters to the RTP metrics. */
  void count_rtp_packets ();
  /* Watches realtimesrc's output for the first model audio after the
   * caller stopped speaking (ai_response_latency_seconds). */
  void watch_response_latency ();
  bool graph_has_realtimesink () const;
  /* The first element of the graph made by @factory_name (a reference). */
  GstElement *find_element (const char *factory_name) const;
  /* Has the model open the call with the route's greeting. */
  void greet ();
  /* Adds a user message to the conversation and asks for an answer. */
  bool tell_model (const std::string & text);
  /* A key the caller pressed (RFC 4733 or SIP INFO). */
  void caller_pressed (char digit, guint duration_ms);
  /* Starts the route's DTMF-to-model and caller-silence helpers. */
  void start_conversation_helpers ();
  /* Model audio not yet heard by the caller: realtimesrc + siprtpsink (ms). */
  guint64 queued_model_audio_ms () const;
  /* Hands a function call of the model to the route's tools (an error
   * output when the route has none). */
  void answer_function_call (const ToolCall & call);
  /* Makes the route's tools (once) and sets them on @pipeline's realtimesink. */
  void attach_tools (GstElement * pipeline);
  void answer ();
  void refuse (int status, const std::string & outcome, const std::string & reason);
  void fail_after_answer (const std::string & reason);
  void connected ();
  void publish (CallEventType type,
      std::vector<std::pair<std::string, std::string>> fields = {});
  void clear_timers ();

  CallSessionHost & host_;
  sipd::CallPtr call_;
  CallFacts facts_;
  const Route *route_ = nullptr;   /* points into the host's config */
  PipelineVariables vars_;
  PipelineVariables extra_vars_;   /* outbound: var.* of the dial request */
  Phase phase_ = Phase::kRouting;

  GstElement *pipeline_ = nullptr;
  std::string pipeline_file_;
  std::unique_ptr<CallTools> tools_;   /* the route's tools; none without */
  std::unique_ptr<DtmfCollector> dtmf_;     /* keys to the model (route dtmf-to-ai) */
  std::unique_ptr<CallerSilence> silence_;  /* route silence-timeout */
  std::shared_ptr<CallRecording> records_;  /* route recording/transcript/summary */
  std::shared_ptr<CallTransfer> transfer_;
  guint bus_watch_ = 0;
  guint ai_timer_ = 0;
  guint fallback_timer_ = 0;

  /* Shared with the pad probe on realtimesrc (a streaming thread): when
   * the caller last stopped speaking (monotonic µs), 0 when not waiting. */
  struct ResponseLatency {
    std::atomic<gint64> speech_stopped_us {0};
    Histogram *histogram = nullptr;
  };
  std::shared_ptr<ResponseLatency> latency_;
  /* Latency probes and RTP totals of the call's graphs (call.ended summary). */
  std::unique_ptr<CallMediaMetrics> media_metrics_;

  gint64 started_at_us_ = 0;
  gint64 answered_at_us_ = 0;
  gint64 ai_connect_us_ = -1;    /* the first AI session's connect time */
  gint64 answered_mono_us_ = 0;
  /* Set by whoever decides how the call ends (refusal, fallback, hang-up). */
  std::string outcome_;
  std::string end_reason_;
};

}  // namespace voxbridge::launcher
