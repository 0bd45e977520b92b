/* One call: route, graph, answer/refuse, fallback, teardown. */

#include "call_session.h"

#include <algorithm>
#include <cstring>

#include "call_variables.h"
#include "graph_elements.h"
#include "pipeline_builder.h"
#include "route_selector.h"
#include "sip_call_facts.h"

namespace voxbridge::launcher {

namespace {

/* A fallback prompt longer than this is cut short by a hang-up. */
constexpr guint kFallbackLimitS = 120;

bool
is_ai_element (GstObject * object)
{
  if (!GST_IS_ELEMENT (object))
    return false;
  GstElementFactory *factory = gst_element_get_factory (GST_ELEMENT (object));
  const char *name = factory ? GST_OBJECT_NAME (factory) : nullptr;
  return name && g_str_has_prefix (name, "realtime");
}

}  // namespace

CallSession::CallSession (CallSessionHost & host, sipd::CallPtr call, CallFacts facts)
  : host_ (host), call_ (std::move (call)), facts_ (std::move (facts)),
    started_at_us_ (g_get_real_time ())
{
}

CallSession::~CallSession ()
{
  clear_timers ();
  stop_graph ();
}

void
CallSession::publish (CallEventType type,
    std::vector<std::pair<std::string, std::string>> fields)
{
  host_.publish (CallEvent::now (type, id (), std::move (fields)));
}

void
CallSession::start_inbound ()
{
  const DeploymentConfig & config = host_.config ();
  route_ = select_route (config.routes, facts_);
  publish (CallEventType::CallStarted, {{"direction", facts_.direction},
      {"from", facts_.from_uri}, {"to", facts_.to_uri},
      {"route", route_ ? route_->name : ""}});
  if (!route_) {
    refuse (404, "no_route", "no route for '" + facts_.request_user + "'");
    return;
  }

  vars_ = make_call_variables (config, *route_, facts_);
  if (!run_graph (route_->pipeline_file, "pipeline")) {
    refuse (500, "failed", "pipeline of route " + route_->name + " failed");
    return;
  }
  if (!graph_has_realtimesink ()) {
    answer ();
    return;
  }
  phase_ = Phase::kWaitingForAi;
  ai_timer_ = g_timeout_add_seconds (config.ai.connect_timeout_s, on_ai_timeout, this);
}

void
CallSession::start_outbound (const Route & route, const PipelineVariables & extra_vars)
{
  route_ = &route;
  extra_vars_ = extra_vars;
  phase_ = Phase::kDialing;
  publish (CallEventType::CallStarted, {{"direction", facts_.direction},
      {"from", facts_.from_uri}, {"to", facts_.to_uri}, {"route", route.name}});
}

void
CallSession::on_state_changed (sipd::CallState state)
{
  if (phase_ != Phase::kDialing)
    return;
  if (state != sipd::CallState::kAnswered && state != sipd::CallState::kConfirmed)
    return;
  /* The answer's SDP decided the codec. */
  facts_ = call_facts_from_sip (*call_);
  vars_ = make_call_variables (host_.config (), *route_, facts_);
  for (const auto & [name, value] : extra_vars_)
    vars_["var." + name] = value;
  if (!run_graph (route_->pipeline_file, "pipeline")) {
    outcome_ = "failed";
    hang_up ("pipeline of route " + route_->name + " failed");
    return;
  }
  connected ();
}

void
CallSession::on_hold_changed (bool held)
{
  g_message ("call %s: %s", id ().c_str (), held ? "on hold" : "resumed");
}

void
CallSession::on_sip_dtmf (char digit, guint duration_ms)
{
  caller_pressed (digit, duration_ms);
}

void
CallSession::caller_pressed (char digit, guint duration_ms)
{
  publish (CallEventType::Dtmf, {{"digit", std::string (1, digit)},
      {"duration_ms", std::to_string (duration_ms)}});
  if (silence_)
    silence_->caller_active ();
  if (dtmf_)
    dtmf_->add (digit);
}

void
CallSession::start_conversation_helpers ()
{
  if (!route_ || !pipeline_ || !graph_has_realtimesink ())
    return;
  if (route_->dtmf_to_ai) {
    dtmf_ = std::make_unique<DtmfCollector> (route_->dtmf_inter_digit_ms,
        [this] (const std::string & keys) {
          if (!tell_model (dtmf_message_for_model (keys)))
            g_message ("call %s: could not pass the keys %s to the model", id ().c_str (),
                keys.c_str ());
        });
  }
  if (route_->silence_timeout_s > 0) {
    CallerSilence::Actions actions;
    actions.ask_model = [this] (const std::string & instruction) { tell_model (instruction); };
    actions.queued_ms = [this] () { return queued_model_audio_ms (); };
    /* Destroys silence_ (stop_graph) from its own timer: its last step. */
    actions.hang_up = [this] () {
      if (outcome_.empty ())
        outcome_ = "caller_silent";
      hang_up ("the caller stayed silent");
    };
    silence_ = std::make_unique<CallerSilence> (route_->silence_timeout_s * 1000, actions);
    silence_->start ();
  }
}

bool
CallSession::tell_model (const std::string & text)
{
  GstElement *sink = pipeline_ ? find_element ("realtimesink") : nullptr;
  if (!sink)
    return false;
  gboolean queued = FALSE;
  g_signal_emit_by_name (sink, "send-text", text.c_str (), &queued);
  gst_object_unref (sink);
  return queued;
}

guint64
CallSession::queued_model_audio_ms () const
{
  guint64 total = 0;
  for (const char *factory : {"realtimesrc", "siprtpsink"}) {
    GstElement *element = find_element (factory);
    if (!element)
      continue;
    /* siprtpsink: the answer's audio only, not the silence fill after it. */
    guint64 ms = 0;
    for (const char *level : {"pending-audio-ms", "queued-ms"}) {
      if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), level)) {
        g_object_get (element, level, &ms, NULL);
        break;
      }
    }
    total += ms;
    gst_object_unref (element);
  }
  return total;
}

void
CallSession::answer ()
{
  clear_timers ();
  if (!call_->answer ()) {
    /* Cancelled meanwhile: sipd reports the end. */
    g_message ("call %s: could not answer (call state %s)", id ().c_str (),
        sipd::call_state_to_string (call_->state ()));
    return;
  }
  connected ();
}

void
CallSession::connected ()
{
  phase_ = Phase::kConnected;
  answered_at_us_ = g_get_real_time ();
  answered_mono_us_ = g_get_monotonic_time ();
  host_.metrics ().call_setup_seconds.observe ((answered_at_us_ - started_at_us_) / 1e6,
      {facts_.direction});
  std::string codec = call_->variable ("rtp.codec");
  std::vector<std::pair<std::string, std::string>> answered {
    {"codec", codec.empty () ? facts_.codec : codec}};
  /* The part of the setup the AI service took (the rest is ours). */
  if (ai_connect_us_ >= 0) {
    gchar ms[32];
    g_snprintf (ms, sizeof ms, "%.1f", ai_connect_us_ / 1000.0);
    answered.push_back ({"ai_connect_ms", ms});
  }
  publish (CallEventType::CallAnswered, std::move (answered));
  if (records_ && pipeline_)
    records_->on_answered (pipeline_);
  start_conversation_helpers ();
  greet ();
}

void
CallSession::greet ()
{
  if (!route_ || route_->greeting.empty () || !pipeline_)
    return;
  GstElement *sink = find_element ("realtimesink");
  if (!sink)
    return;
  /* The Realtime API has no "say this" event: ask for a response to a
   * message that tells the model how to open the call. */
  const std::string text = "The phone call has just been connected. Greet the caller "
      "by saying: \"" + route_->greeting + "\"";
  gboolean queued = FALSE;
  g_signal_emit_by_name (sink, "send-text", text.c_str (), &queued);
  if (!queued)
    g_message ("call %s: could not send the greeting", id ().c_str ());
  gst_object_unref (sink);
}

void
CallSession::answer_function_call (const ToolCall & call)
{
  if (tools_) {
    tools_->dispatch (call);
    return;
  }
  /* A route without tools; a model left waiting for a function's output
   * would fall silent, so tell it there is none and let it go on. */
  g_message ("call %s: the model called function '%s'; no handler, answering with an error",
      id ().c_str (), call.name.c_str ());
  GstElement *sink = pipeline_ ? find_element ("realtimesink") : nullptr;
  if (!sink)
    return;
  gboolean queued = FALSE;
  g_signal_emit_by_name (sink, "send-function-output", call.id.c_str (),
      "{\"error\":\"this function is not available\"}", &queued);
  gst_object_unref (sink);
}

void
CallSession::attach_tools (GstElement * pipeline)
{
  if (!route_ || route_->tools.empty ())
    return;
  if (!tools_) {
    std::weak_ptr<CallSession> weak = weak_from_this ();
    CallToolsHooks hooks;
    hooks.send_function_output = [weak] (const std::string & call_id,
        const std::string & output) {
      auto self = weak.lock ();
      GstElement *sink = self && self->pipeline_ ? self->find_element ("realtimesink") : nullptr;
      if (!sink)
        return false;
      gboolean queued = FALSE;
      g_signal_emit_by_name (sink, "send-function-output", call_id.c_str (), output.c_str (),
          &queued);
      gst_object_unref (sink);
      return queued == TRUE;
    };
    hooks.publish = [weak] (CallEventType type, CallEventFields fields) {
      auto self = weak.lock ();
      if (!self)
        return;
      if (type == CallEventType::ToolResult) {
        std::string tool, result;
        for (const auto & [key, value] : fields) {
          if (key == "tool")
            tool = value;
          else if (key == "result")
            result = value;
        }
        /* The name comes from the model: only the route's own tools get a
         * label of their own (a bounded set). */
        const auto & offered = self->route_->tools;
        if (std::find (offered.begin (), offered.end (), tool) == offered.end ())
          tool = "unknown";
        self->host_.metrics ().tool_calls_total.inc ({tool, result});
      }
      self->publish (type, std::move (fields));
    };
    hooks.graph_element = [weak] (const char *factory) -> GstElement * {
      auto self = weak.lock ();
      return self && self->pipeline_ ? self->find_element (factory) : nullptr;
    };
    hooks.end_call = [weak] (const std::string & outcome, const std::string & reason) {
      if (auto self = weak.lock ()) {
        if (self->outcome_.empty ())
          self->outcome_ = outcome;
        self->hang_up (reason);
      }
    };
    tools_ = std::make_unique<CallTools> (host_.config (), *route_, id (), vars_,
        std::move (hooks));
    tools_->register_handler ("transfer_call", [weak] (const ToolCall & call, ToolDone done) {
          if (auto self = weak.lock ())
            self->start_transfer (call.arguments, std::move (done));
        });
  }
  tools_->apply_to_graph (pipeline);
}

void
CallSession::start_transfer (const std::string & arguments_json,
    std::function<void (const std::string & output)> reply)
{
  std::string refused;
  if (!route_ || route_->transfer_target.empty () ||
      std::find (route_->tools.begin (), route_->tools.end (), "transfer_call") ==
      route_->tools.end ())
    refused = "transfer_call is not enabled for this line";
  else if (transfer_ && transfer_->active ())
    refused = "a transfer is already under way";
  else if (phase_ != Phase::kConnected || !call_->rtp ())
    refused = "the call is not connected";
  if (!refused.empty ()) {
    g_message ("call %s: transfer_call refused: %s", id ().c_str (), refused.c_str ());
    reply (CallTransfer::failure_output (refused));
    return;
  }

  TransferSettings settings;
  settings.target = route_->transfer_target;
  settings.reason = transfer_reason (arguments_json);
  if (!facts_.from_uri.empty ())
    settings.from = "<" + facts_.from_uri + ">";
  std::weak_ptr<CallSession> weak = shared_from_this ();
  CallTransfer::Hooks hooks;
  hooks.publish = [weak] (CallEventType type, CallTransfer::Fields fields) {
    if (auto self = weak.lock ())
      self->publish (type, std::move (fields));
  };
  hooks.failed = reply;
  hooks.transferred = std::move (reply);
  hooks.stop_ai = [weak] () {
    if (auto self = weak.lock ()) {
      self->clear_timers ();
      self->stop_graph ();
    }
  };
  hooks.end_call = [weak] (const std::string & reason) {
    if (auto self = weak.lock ()) {
      self->outcome_ = "transferred";
      self->hang_up (reason);
    }
  };
  hooks.dial = [weak] (const sipd::DialRequest & request, std::string * error) {
    auto self = weak.lock ();
    return self ? self->host_.dial_leg (request, error) : nullptr;
  };
  g_message ("call %s: the model asked for a transfer to %s", id ().c_str (),
      settings.target.c_str ());
  transfer_ = std::make_shared<CallTransfer> (call_, std::move (settings), std::move (hooks));
  transfer_->start ();
}

GstElement *
CallSession::find_element (const char *factory_name) const
{
  return find_element_of_factory (pipeline_, factory_name);
}

void
CallSession::refuse (int status, const std::string & outcome, const std::string & reason)
{
  clear_timers ();
  stop_graph ();
  outcome_ = outcome;
  end_reason_ = reason;
  phase_ = Phase::kEnding;
  g_message ("call %s: refused with %d: %s", id ().c_str (), status, reason.c_str ());
  bool sent = status == 503 ? call_->reject_unavailable () : call_->reject (status);
  if (!sent)
    g_message ("call %s: could not send %d (call state %s)", id ().c_str (), status,
        sipd::call_state_to_string (call_->state ()));
}

void
CallSession::hang_up (const std::string & reason)
{
  if (phase_ == Phase::kEnding || phase_ == Phase::kEnded)
    return;
  clear_timers ();
  stop_graph ();
  if (end_reason_.empty ())
    end_reason_ = reason;
  if (outcome_.empty () && answered_at_us_ == 0)
    outcome_ = "cancelled";   /* given up before anyone answered */
  phase_ = Phase::kEnding;
  if (transfer_)
    transfer_->caller_ended ();
  g_message ("call %s: hanging up: %s", id ().c_str (), reason.c_str ());
  call_->hangup (reason);
}

void
CallSession::fail_after_answer (const std::string & reason)
{
  stop_graph ();
  outcome_ = "failed";
  end_reason_ = reason;
  if (route_ && !route_->fallback_pipeline_file.empty ()
      && run_graph (route_->fallback_pipeline_file, "fallback pipeline")) {
    phase_ = Phase::kFallback;
    fallback_timer_ = g_timeout_add_seconds (kFallbackLimitS, on_fallback_timeout, this);
    g_message ("call %s: playing the fallback prompt before hanging up", id ().c_str ());
    return;
  }
  hang_up (reason);
}

void
CallSession::on_ended (const sipd::CallEnd & end)
{
  clear_timers ();
  stop_graph ();
  if (transfer_) {
    transfer_->caller_ended ();
    transfer_.reset ();
  }
  const bool answered = answered_at_us_ != 0;
  const Phase was = phase_;
  phase_ = Phase::kEnded;

  const bool unanswered_outbound = !answered && was == Phase::kDialing;
  if (outcome_.empty ()) {
    if (answered)
      outcome_ = "completed";
    else if (unanswered_outbound)
      outcome_ = "unanswered";
    else if (end.by == sipd::EndedBy::kRemote)
      outcome_ = "cancelled";
    else
      outcome_ = "failed";
  }
  std::string reason = end_reason_;
  if (reason.empty ()) {
    if (unanswered_outbound)
      reason = "not answered: " + std::to_string (end.status) +
          (end.reason.empty () ? "" : " " + end.reason);
    else if (end.by == sipd::EndedBy::kRemote)
      reason = answered ? "remote hung up" : "cancelled by the caller";
    else
      reason = end.reason.empty () ? "ended" : end.reason;
  }

  double duration_s = 0;
  if (answered) {
    duration_s = (g_get_monotonic_time () - answered_mono_us_) / 1e6;
    host_.metrics ().call_duration_seconds.observe (duration_s);
  }
  host_.metrics ().calls_total.inc ({outcome_});
  std::vector<std::pair<std::string, std::string>> ended = {{"reason", reason},
      {"duration_s", format_event_number (duration_s, 1)}, {"outcome", outcome_},
      {"sip_status", std::to_string (end.status)}};
  if (media_metrics_)   /* the per-call media summary */
    for (auto & field : media_metrics_->summary ())
      ended.push_back (std::move (field));
  publish (CallEventType::CallEnded, std::move (ended));
}

bool
CallSession::run_graph (const std::string & file, const char *what)
{
  PipelineError render_error;
  auto rendered = render_pipeline_file (file, vars_, render_error);
  if (!rendered) {
    g_warning ("call %s: %s: %s", id ().c_str (), what, render_error.to_string ().c_str ());
    host_.metrics ().errors_total.inc ({"pipeline"});
    publish (CallEventType::Error, {{"cause", "pipeline"},
        {"message", render_error.to_string ()}});
    return false;
  }
  PipelineBuildError build_error;
  GstElement *pipeline = build_pipeline (*rendered, build_error);
  if (!pipeline) {
    g_warning ("call %s: %s: %s", id ().c_str (), what, build_error.to_string ().c_str ());
    host_.metrics ().errors_total.inc ({"pipeline"});
    publish (CallEventType::Error, {{"cause", "pipeline"},
        {"message", build_error.to_string ()}});
    return false;
  }
  gst_object_set_name (GST_OBJECT (pipeline), ("call-" + id ()).c_str ());
  pipeline_ = pipeline;
  if (route_ && route_->barge_in.has_value ()) {
    if (GstElement *sink = find_element ("realtimesink")) {
      g_object_set (sink, "barge-in", (gboolean) *route_->barge_in, NULL);
      gst_object_unref (sink);
    }
  }
  pipeline_file_ = file;
  attach_tools (pipeline);   /* before PLAYING: tools go into session.update */
  if (route_ && route_->record.any () && file == route_->pipeline_file) {
    CallSessionHost *host = &host_;
    records_ = std::make_shared<CallRecording> (id (), route_->name, route_->record,
        [host] (CallEvent event) { host->publish (std::move (event)); });
    records_->attach (pipeline);   /* before PLAYING: the taps negotiate with the rest */
  }
  GstBus *bus = gst_element_get_bus (pipeline);
  bus_watch_ = gst_bus_add_watch (bus, on_bus_message, this);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string message = "could not start";
    if (GstMessage *error = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error (error, &err, &debug);
      gchar *source = gst_object_get_path_string (GST_MESSAGE_SRC (error));
      message = std::string (source) + ": " + err->message;
      g_free (source);
      g_clear_error (&err);
      g_free (debug);
      gst_message_unref (error);
    }
    gst_object_unref (bus);
    g_warning ("call %s: %s %s did not reach PLAYING: %s", id ().c_str (), what,
        file.c_str (), message.c_str ());
    host_.metrics ().errors_total.inc ({"pipeline"});
    publish (CallEventType::Error, {{"cause", "pipeline"}, {"message", message}});
    stop_graph ();
    return false;
  }
  gst_object_unref (bus);
  watch_response_latency ();
  if (!media_metrics_)
    media_metrics_ = std::make_unique<CallMediaMetrics> (host_.metrics ());
  media_metrics_->attach (pipeline_);
  g_message ("call %s: %s %s running", id ().c_str (), what, file.c_str ());
  return true;
}

void
CallSession::watch_response_latency ()
{
  latency_ = std::make_shared<ResponseLatency> ();
  latency_->histogram = &host_.metrics ().ai_response_latency_seconds;
  for_each_element_of_factory (pipeline_, "realtimesrc", [this] (GstElement * element) {
    GstPad *pad = gst_element_get_static_pad (element, "src");
    if (pad) {
      /* realtimesrc marks its silence GAP: the first other buffer is the
       * model's answer. */
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
          [] (GstPad *, GstPadProbeInfo * info, gpointer data) -> GstPadProbeReturn {
            auto & latency = **static_cast<std::shared_ptr<ResponseLatency> *> (data);
            GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
            if (buffer && !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP)) {
              const gint64 stopped = latency.speech_stopped_us.exchange (0);
              if (stopped > 0)
                latency.histogram->observe ((g_get_monotonic_time () - stopped) / 1e6);
            }
            return GST_PAD_PROBE_OK;
          },
          new std::shared_ptr<ResponseLatency> (latency_),
          [] (gpointer data) { delete static_cast<std::shared_ptr<ResponseLatency> *> (data); });
      gst_object_unref (pad);
    }
  });
}

void
CallSession::count_rtp_packets ()
{
  LauncherMetrics & metrics = host_.metrics ();
  for (const bool src : {true, false}) {
    for_each_element_of_factory (pipeline_, src ? "siprtpsrc" : "siprtpsink",
        [&metrics, src] (GstElement * element) {
      GstStructure *stats = nullptr;
      g_object_get (element, "stats", &stats, nullptr);
      auto add = [&stats] (Counter & counter, const LabelValues & labels, const char *field) {
        guint64 value = 0;
        if (stats && gst_structure_get_uint64 (stats, field, &value) && value > 0)
          counter.inc (labels, static_cast<double> (value));
      };
      if (src) {
        add (metrics.rtp_packets_total, {"in"}, "packets-received");
        add (metrics.rtp_packets_dropped_total, {"late"}, "packets-late");
        add (metrics.rtp_packets_dropped_total, {"malformed"}, "packets-invalid");
      } else {
        add (metrics.rtp_packets_total, {"out"}, "packets-sent");
        add (metrics.rtp_packets_dropped_total, {"send_buffer_full"}, "packets-dropped");
        add (metrics.rtp_packets_dropped_total, {"send_error"}, "send-errors");
      }
      if (stats)
        gst_structure_free (stats);
    });
  }
}

void
CallSession::stop_graph ()
{
  /* They talk to this graph's realtimesink. */
  dtmf_.reset ();
  silence_.reset ();
  if (bus_watch_ != 0) {
    g_source_remove (bus_watch_);
    bus_watch_ = 0;
  }
  if (pipeline_) {
    if (media_metrics_)
      media_metrics_->finish (pipeline_);
    count_rtp_packets ();
    if (records_) {
      /* The recording drains and the summary is asked for before the graph
       * goes to NULL; GET /calls/{id} keeps listing the files meanwhile. */
      CallInfo ended = info (true);
      ended.state = "ended";
      CallRecording::set_recent_call_info (id (), std::move (ended));
      auto records = std::move (records_);
      records->finish (pipeline_);
    } else {
      gst_element_set_state (pipeline_, GST_STATE_NULL);
      gst_object_unref (pipeline_);
    }
    pipeline_ = nullptr;
  }
}

bool
CallSession::graph_has_realtimesink () const
{
  GstElement *sink = find_element ("realtimesink");
  if (sink)
    gst_object_unref (sink);
  return sink != nullptr;
}

void
CallSession::clear_timers ()
{
  if (ai_timer_ != 0) {
    g_source_remove (ai_timer_);
    ai_timer_ = 0;
  }
  if (fallback_timer_ != 0) {
    g_source_remove (fallback_timer_);
    fallback_timer_ = 0;
  }
}

gboolean
CallSession::on_ai_timeout (gpointer data)
{
  auto *self = static_cast<CallSession *> (data);
  auto keep = self->shared_from_this ();
  self->ai_timer_ = 0;
  const std::string message = "AI session not ready within " +
      std::to_string (self->host_.config ().ai.connect_timeout_s) + " s";
  g_warning ("call %s: %s", self->id ().c_str (), message.c_str ());
  self->host_.metrics ().errors_total.inc ({"ai"});
  self->publish (CallEventType::Error, {{"cause", "ai"}, {"message", message}});
  self->refuse (503, "failed", message);
  return G_SOURCE_REMOVE;
}

gboolean
CallSession::on_fallback_timeout (gpointer data)
{
  auto *self = static_cast<CallSession *> (data);
  auto keep = self->shared_from_this ();
  self->fallback_timer_ = 0;
  self->hang_up ("fallback prompt too long");
  return G_SOURCE_REMOVE;
}

gboolean
CallSession::on_bus_message (GstBus * bus, GstMessage * message, gpointer data)
{
  auto *self = static_cast<CallSession *> (data);
  auto keep = self->shared_from_this ();
  self->handle_bus_message (message);
  return G_SOURCE_CONTINUE;
}

void
CallSession::handle_bus_message (GstMessage * message)
{
  if (records_)
    records_->on_message (message);
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:
      handle_error (message);
      break;
    case GST_MESSAGE_EOS:
      handle_eos ();
      break;
    case GST_MESSAGE_WARNING: {
      GError *err = nullptr;
      gst_message_parse_warning (message, &err, nullptr);
      g_message ("call %s: warning from %s: %s", id ().c_str (),
          GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      handle_element_message (message);
      break;
    default:
      break;
  }
}

void
CallSession::handle_element_message (GstMessage * message)
{
  const GstStructure *s = gst_message_get_structure (message);
  if (!s)
    return;
  const char *name = gst_structure_get_name (s);
  auto text_of = [s] (const char *field) -> std::string {
    const char *value = gst_structure_get_string (s, field);
    return value ? value : "";
  };
  auto is_final = [s] () -> bool {
    gboolean final = FALSE;
    return gst_structure_get_boolean (s, "final", &final) && final;
  };

  if (g_str_has_prefix (name, "realtime-"))
    host_.metrics ().ai_events_total.inc ({name + strlen ("realtime-")});
  if (tools_)
    tools_->handle_element_message (s);

  if (g_str_equal (name, "realtime-session-ready")) {
    gboolean reconnected = FALSE;
    gst_structure_get_boolean (s, "reconnected", &reconnected);
    gint64 connect_us = -1;
    if (gst_structure_get_int64 (s, "connect-us", &connect_us) && connect_us >= 0) {
      host_.metrics ().ai_connect_seconds.observe (connect_us / 1e6);
      if (!reconnected)
        ai_connect_us_ = connect_us;
    }
    g_message ("call %s: AI session ready%s", id ().c_str (),
        reconnected ? " again (reconnected)" : "");
    if (phase_ == Phase::kWaitingForAi)
      answer ();
  } else if (g_str_equal (name, "realtime-speech-stopped")) {
    if (latency_)
      latency_->speech_stopped_us = g_get_monotonic_time ();
  } else if (g_str_equal (name, "realtime-speech-started")) {
    if (latency_)
      latency_->speech_stopped_us = 0;   /* still talking: no answer due */
    if (silence_)
      silence_->caller_active ();
    gint64 mono_us = 0;
    gst_structure_get_int64 (s, "mono-us", &mono_us);
    publish (CallEventType::SpeechStarted, {{"mono_us", std::to_string (mono_us)}});
  } else if (g_str_equal (name, "realtime-barge-in")) {
    guint64 end_ms = 0, dropped_ms = 0;
    gst_structure_get_uint64 (s, "audio-end-ms", &end_ms);
    gst_structure_get_uint64 (s, "dropped-ms", &dropped_ms);
    const std::string counted_at = text_of ("counted-at");
    host_.metrics ().barge_ins_total.inc ({counted_at.empty () ? "unknown" : counted_at});
    host_.metrics ().barge_in_dropped_audio_seconds.observe (
        static_cast<double> (dropped_ms) / 1000.0);
    publish (CallEventType::BargeIn, {{"item_id", text_of ("item-id")},
        {"audio_end_ms", std::to_string (end_ms)}, {"counted_at", text_of ("counted-at")},
        {"dropped_ms", std::to_string (dropped_ms)}});
  } else if (g_str_equal (name, "realtime-session-lost")) {
    g_message ("call %s: AI session lost: %s", id ().c_str (), text_of ("reason").c_str ());
  } else if (g_str_equal (name, "realtime-input-transcript")) {
    if (is_final ())
      publish (CallEventType::CallerTranscript, {{"text", text_of ("text")}});
  } else if (g_str_equal (name, "realtime-output-transcript")) {
    if (is_final ())
      publish (CallEventType::AiTranscript, {{"text", text_of ("text")}});
  } else if (g_str_equal (name, "realtime-output-text")) {
    if (is_final ())
      publish (CallEventType::AiText, {{"text", text_of ("text")}});
  } else if (g_str_equal (name, "realtime-error")) {
    /* A failed connection also posts an ERROR, reported there. */
    if (text_of ("type") != "connection") {
      host_.metrics ().errors_total.inc ({"ai"});
      publish (CallEventType::Error, {{"cause", "ai"},
          {"message", text_of ("code") + ": " + text_of ("message")}});
    }
  } else if (g_str_equal (name, "realtime-function-call")) {
    answer_function_call ({text_of ("call-id"), text_of ("name"), text_of ("arguments")});
  } else if (g_str_equal (name, "siprtp-dtmf")) {
    guint duration_ms = 0;
    gst_structure_get_uint (s, "duration-ms", &duration_ms);
    const std::string digit = text_of ("digit");
    if (digit.size () == 1)
      caller_pressed (digit[0], duration_ms);
  } else if (silence_ && gst_structure_has_field (s, "tag")) {
    /* Out-of-band responses (e.g. the summary) are not the model speaking. */
  } else if (silence_ && g_str_equal (name, "realtime-response-started")) {
    silence_->model_started ();
  } else if (silence_ && g_str_equal (name, "realtime-response-done")) {
    silence_->model_finished ();
  }
}

void
CallSession::handle_error (GstMessage * message)
{
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error (message, &err, &debug);
  const bool ai = is_ai_element (GST_MESSAGE_SRC (message));
  gchar *source = gst_object_get_path_string (GST_MESSAGE_SRC (message));
  const std::string text = err->message;
  g_warning ("call %s: error from %s (%s): %s (%s)", id ().c_str (), source,
      pipeline_file_.c_str (), err->message, debug ? debug : "");
  g_free (source);
  g_free (debug);
  g_clear_error (&err);

  const char *cause = ai ? "ai" : "pipeline";
  host_.metrics ().errors_total.inc ({cause});
  publish (CallEventType::Error, {{"cause", cause}, {"message", text}});

  switch (phase_) {
    case Phase::kRouting:
    case Phase::kWaitingForAi:
      refuse (503, "failed", (ai ? "AI unavailable: " : "pipeline failed: ") + text);
      break;
    case Phase::kConnected:
      fail_after_answer ((ai ? "AI failed: " : "pipeline failed: ") + text);
      break;
    case Phase::kFallback:
      hang_up ("fallback pipeline failed: " + text);
      break;
    case Phase::kDialing:
    case Phase::kEnding:
    case Phase::kEnded:
      stop_graph ();
      break;
  }
}

void
CallSession::handle_eos ()
{
  switch (phase_) {
    case Phase::kFallback:
      hang_up ("fallback prompt played");
      break;
    case Phase::kConnected:
      hang_up ("pipeline ended");
      break;
    case Phase::kWaitingForAi:
    case Phase::kRouting:
      refuse (503, "failed", "pipeline ended before the AI was ready");
      break;
    default:
      stop_graph ();
      break;
  }
}

CallInfo
CallSession::info (bool details) const
{
  CallInfo info;
  info.id = id ();
  info.direction = facts_.direction;
  switch (phase_) {
    case Phase::kRouting:
    case Phase::kWaitingForAi:
    case Phase::kDialing:
      info.state = "ringing";
      break;
    case Phase::kConnected:
    case Phase::kFallback:
      info.state = "answered";
      break;
    case Phase::kEnding:
    case Phase::kEnded:
      info.state = "ending";
      break;
  }
  info.from = facts_.from_uri;
  info.to = facts_.to_uri;
  info.route = route_ ? route_->name : "";
  info.codec = call_->variable ("rtp.codec");
  info.started_at_us = started_at_us_;
  info.answered_at_us = answered_at_us_;
  if (!details)
    return info;
  if (pipeline_) {
    /* A live graph whose sinks have had no data yet stays PAUSED on its way
     * to PLAYING; say so rather than hide it. */
    GstState state = GST_STATE_VOID_PENDING, pending = GST_STATE_VOID_PENDING;
    gst_element_get_state (pipeline_, &state, &pending, 0);
    info.pipeline_state = gst_element_state_get_name (state);
    if (pending != GST_STATE_VOID_PENDING)
      info.pipeline_state += std::string (" (to ") + gst_element_state_get_name (pending) + ")";
  }
  info.headers = facts_.headers;
  info.variables = vars_;
  if (records_)
    info.records = records_->records ();
  return info;
}

}  // namespace voxbridge::launcher
