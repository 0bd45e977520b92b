/* transfer_call: REFER, or INVITE + bridge when REFER is refused. */

#include "call_transfer.h"

#include <json-glib/json-glib.h>

#include "bridge_graph.h"
#include "graph_elements.h"
#include "json_text.h"

namespace voxbridge::launcher {

namespace {

std::string
status_text (int status, const std::string & phrase)
{
  if (status == 0)
    return phrase;
  return std::to_string (status) + (phrase.empty () ? "" : " " + phrase);
}

/* A header value from free text: one line, printable, bounded. */
std::string
header_text (const std::string & text)
{
  std::string out;
  for (unsigned char c : text) {
    if (out.size () >= 200)
      break;
    out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char> (c);
  }
  return out;
}

}  // namespace

std::string
transfer_reason (const std::string & arguments_json)
{
  std::string reason;
  JsonNode *root = json_from_string (arguments_json.c_str (), nullptr);
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonObject *object = json_node_get_object (root);
    JsonNode *value = json_object_get_member (object, "reason");
    if (value && JSON_NODE_HOLDS_VALUE (value) &&
        json_node_get_value_type (value) == G_TYPE_STRING)
      reason = json_node_get_string (value);
  }
  if (root)
    json_node_unref (root);
  return reason;
}

CallTransfer::CallTransfer (sipd::CallPtr caller, TransferSettings settings, Hooks hooks)
  : caller_ (std::move (caller)), settings_ (std::move (settings)), hooks_ (std::move (hooks))
{
}

CallTransfer::~CallTransfer ()
{
  clear_answer_timer ();
  stop_bridge ();
  if (target_) {
    target_->set_listener ({});
    target_->hangup ("transfer abandoned");
  }
}

std::string
CallTransfer::failure_output (const std::string & why)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_add_string_member (builder, "status", "failed");
  json_add_string_member (builder, "error", "The transfer failed (" + why +
      "). The caller is still on the line with you.");
  json_builder_end_object (builder);
  return json_builder_take_text (builder);
}

std::string
CallTransfer::success_output (const char *method)
{
  return std::string ("{\"status\":\"transferred\",\"method\":\"") + method + "\"}";
}

void
CallTransfer::publish (CallEventType type, Fields fields)
{
  if (hooks_.publish)
    hooks_.publish (type, std::move (fields));
}

void
CallTransfer::start ()
{
  publish (CallEventType::TransferStarted, {{"target", settings_.target},
      {"reason", settings_.reason}});
  std::weak_ptr<CallTransfer> weak = shared_from_this ();
  state_ = State::kReferring;
  const bool sent = caller_->refer (settings_.target,
      [weak] (const sipd::ReferProgress & progress) {
        if (auto self = weak.lock ())
          self->on_refer (progress);
      }, settings_.refer_timeout_s);
  if (!sent)
    dial_target ("the call cannot take a REFER in state " +
        std::string (sipd::call_state_to_string (caller_->state ())));
}

void
CallTransfer::on_refer (const sipd::ReferProgress & progress)
{
  if (state_ != State::kReferring)
    return;
  const std::string status = std::to_string (progress.status);
  switch (progress.stage) {
    case sipd::ReferStage::kAccepted:
      refer_accepted_ = true;
      publish (CallEventType::TransferProgress, {{"stage", "refer-accepted"},
          {"sip_status", status}});
      break;
    case sipd::ReferStage::kTrying:
      refer_accepted_ = true;
      publish (CallEventType::TransferProgress, {{"stage", "target-trying"},
          {"sip_status", status}});
      break;
    case sipd::ReferStage::kSucceeded:
      state_ = State::kDone;
      publish (CallEventType::TransferAccepted, {{"method", "refer"},
          {"sip_status", status}});
      if (hooks_.transferred)
        hooks_.transferred (success_output ("refer"));
      if (hooks_.end_call)
        hooks_.end_call ("transferred to " + settings_.target);
      break;
    case sipd::ReferStage::kRefused:
      publish (CallEventType::TransferProgress, {{"stage", "refer-refused"},
          {"sip_status", status}});
      dial_target ("REFER refused: " + status_text (progress.status, progress.phrase));
      break;
    case sipd::ReferStage::kFailed:
      if (caller_->state () == sipd::CallState::kEnded) {
        state_ = State::kDone;   /* caller_ended() does the rest */
      } else if (!refer_accepted_) {
        /* Never answered: the peer does not do REFER. */
        publish (CallEventType::TransferProgress, {{"stage", "refer-unanswered"},
            {"sip_status", status}});
        dial_target ("REFER unanswered");
      } else {
        fail ("refer", progress.status, "the target was not reached: " +
            status_text (progress.status, progress.phrase));
      }
      break;
  }
}

void
CallTransfer::dial_target (const std::string & why)
{
  g_message ("call %s: %s; calling %s to bridge", caller_->id ().c_str (), why.c_str (),
      settings_.target.c_str ());
  sipd::DialRequest request;
  request.to = settings_.target;
  request.from = settings_.from;
  /* The caller's codec first: the bridge then copies packets untouched. */
  const std::string codec = caller_->variable ("rtp.codec");
  if (!codec.empty ())
    request.codecs = {codec, codec == "PCMU" ? "PCMA" : "PCMU"};
  if (!settings_.reason.empty ())
    request.headers.push_back ({"X-Transfer-Reason", header_text (settings_.reason)});

  std::string error;
  target_ = hooks_.dial ? hooks_.dial (request, &error) : nullptr;
  if (!target_) {
    fail ("bridge", 0, "could not call the target: " + error);
    return;
  }
  state_ = State::kDialing;
  target_call_id_ = target_->id ();
  std::weak_ptr<CallTransfer> weak = shared_from_this ();
  sipd::CallListener listener;
  listener.state_changed = [weak] (const sipd::CallPtr &, sipd::CallState state) {
    if (auto self = weak.lock ())
      self->on_target_state (state);
  };
  listener.ended = [weak] (const sipd::CallPtr &, const sipd::CallEnd & end) {
    if (auto self = weak.lock ())
      self->on_target_ended (end);
  };
  target_->set_listener (std::move (listener));
  publish (CallEventType::TransferProgress, {{"stage", "dialing"},
      {"target_call_id", target_call_id_}});
  if (settings_.answer_timeout_s > 0)
    answer_timer_ = g_timeout_add_seconds (settings_.answer_timeout_s, on_answer_timeout, this);
}

gboolean
CallTransfer::on_answer_timeout (gpointer data)
{
  auto *self = static_cast<CallTransfer *> (data);
  auto keep = self->shared_from_this ();
  self->answer_timer_ = 0;
  if (self->state_ == State::kDialing && self->target_) {
    g_message ("call %s: the transfer target did not answer in %u s",
        self->caller_->id ().c_str (), self->settings_.answer_timeout_s);
    sipd::CallPtr target = std::move (self->target_);
    target->set_listener ({});
    target->hangup ("not answered");
    self->fail ("bridge", 408, "the target did not answer");
  }
  return G_SOURCE_REMOVE;
}

void
CallTransfer::on_target_state (sipd::CallState state)
{
  if (state_ != State::kDialing)
    return;
  if (state == sipd::CallState::kRinging)
    publish (CallEventType::TransferProgress, {{"stage", "target-ringing"},
        {"sip_status", "180"}});
  else if (state == sipd::CallState::kAnswered)
    bridge ();
}

void
CallTransfer::on_target_ended (const sipd::CallEnd & end)
{
  sipd::CallPtr target = std::move (target_);
  if (state_ == State::kDialing) {
    clear_answer_timer ();
    fail ("bridge", end.status, "the target did not take the call: " +
        status_text (end.status, end.reason));
  } else if (state_ == State::kBridged) {
    state_ = State::kDone;
    auto [to_target, to_caller] = stop_bridge ();
    publish (CallEventType::TransferEnded, {{"ended_by", "target"},
        {"duration_s", format_event_number ((g_get_monotonic_time () - bridged_at_us_) / 1e6, 1)},
        {"packets_to_target", std::to_string (to_target)},
        {"packets_to_caller", std::to_string (to_caller)}});
    if (hooks_.end_call)
      hooks_.end_call ("the transfer target hung up");
  }
}

void
CallTransfer::bridge ()
{
  clear_answer_timer ();
  const BridgeLeg caller {caller_->id (), caller_->variable ("rtp.codec")};
  const BridgeLeg target {target_->id (), target_->variable ("rtp.codec")};
  std::string error;
  auto description = bridge_pipeline_description (caller, target, &error);
  GError *err = nullptr;
  GstElement *pipeline = nullptr;
  if (description) {
    pipeline = gst_parse_launch_full (description->c_str (), nullptr,
        GST_PARSE_FLAG_FATAL_ERRORS, &err);
    if (!pipeline)
      error = err ? err->message : "could not build the bridge";
    g_clear_error (&err);
  }
  if (!pipeline) {
    g_warning ("call %s: bridge: %s", caller_->id ().c_str (), error.c_str ());
    sipd::CallPtr leg = std::move (target_);
    leg->set_listener ({});
    leg->hangup ("bridge failed");
    fail ("bridge", 500, "could not bridge: " + error);
    return;
  }
  gst_object_set_name (GST_OBJECT (pipeline), ("bridge-" + caller.call_id).c_str ());

  /* From here the caller's media belongs to the bridge. */
  if (hooks_.stop_ai)
    hooks_.stop_ai ();
  state_ = State::kBridged;
  bridge_ = pipeline;
  GstBus *bus = gst_element_get_bus (pipeline);
  bridge_watch_ = gst_bus_add_watch (bus, on_bridge_bus, this);
  gst_object_unref (bus);
  bridged_at_us_ = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_warning ("call %s: the bridge graph did not start", caller_->id ().c_str ());
    caller_ended ();
    if (hooks_.end_call)
      hooks_.end_call ("bridge failed");
    return;
  }
  g_message ("call %s: bridged to %s (%s <-> %s)", caller_->id ().c_str (),
      target.call_id.c_str (), caller.codec.c_str (), target.codec.c_str ());
  publish (CallEventType::TransferAccepted, {{"method", "bridge"}, {"sip_status", "200"}});
  if (hooks_.transferred)
    hooks_.transferred (success_output ("bridge"));
  publish (CallEventType::TransferBridged, {{"target_call_id", target.call_id},
      {"caller_codec", caller.codec}, {"target_codec", target.codec}});
}

gboolean
CallTransfer::on_bridge_bus (GstBus *, GstMessage * message, gpointer data)
{
  auto *self = static_cast<CallTransfer *> (data);
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR &&
      GST_MESSAGE_TYPE (message) != GST_MESSAGE_EOS)
    return G_SOURCE_CONTINUE;
  auto keep = self->shared_from_this ();
  std::string why = "bridge ended";
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error (message, &err, nullptr);
    why = std::string ("bridge failed: ") + err->message;
    g_clear_error (&err);
  }
  g_warning ("call %s: %s", self->caller_->id ().c_str (), why.c_str ());
  self->bridge_watch_ = 0;
  self->caller_ended ();
  if (self->hooks_.end_call)
    self->hooks_.end_call (why);
  return G_SOURCE_REMOVE;
}

void
CallTransfer::caller_ended ()
{
  clear_answer_timer ();
  const State was = state_;
  const bool was_bridged = was == State::kBridged;
  state_ = State::kDone;
  if (was == State::kReferring || was == State::kDialing)
    publish (CallEventType::TransferFailed, {{"method", was == State::kDialing ? "bridge" : "refer"},
        {"sip_status", "0"}, {"reason", "the caller hung up first"}});
  if (target_) {
    sipd::CallPtr target = std::move (target_);
    target->set_listener ({});
    target->hangup (was_bridged ? "the caller hung up" : "transfer abandoned");
  }
  if (was_bridged) {
    auto [to_target, to_caller] = stop_bridge ();
    publish (CallEventType::TransferEnded, {{"ended_by", "caller"},
        {"duration_s", format_event_number ((g_get_monotonic_time () - bridged_at_us_) / 1e6, 1)},
        {"packets_to_target", std::to_string (to_target)},
        {"packets_to_caller", std::to_string (to_caller)}});
  }
}

void
CallTransfer::fail (const char *method, int sip_status, const std::string & reason)
{
  state_ = State::kDone;
  g_message ("call %s: transfer to %s failed: %s", caller_->id ().c_str (),
      settings_.target.c_str (), reason.c_str ());
  publish (CallEventType::TransferFailed, {{"method", method},
      {"sip_status", std::to_string (sip_status)}, {"reason", reason}});
  if (hooks_.failed)
    hooks_.failed (failure_output (reason));
}

std::pair<guint64, guint64>
CallTransfer::stop_bridge ()
{
  guint64 to_target = 0, to_caller = 0;
  if (bridge_watch_ != 0) {
    g_source_remove (bridge_watch_);
    bridge_watch_ = 0;
  }
  if (!bridge_)
    return {0, 0};
  for_each_element_of_factory (bridge_, "siprtpsink", [&] (GstElement * sink) {
      gchar *call_id = nullptr;
      GstStructure *stats = nullptr;
      g_object_get (sink, "call-id", &call_id, "stats", &stats, nullptr);
      guint64 sent = 0;
      if (stats)
        gst_structure_get_uint64 (stats, "packets-sent", &sent);
      (g_strcmp0 (call_id, caller_->id ().c_str ()) == 0 ? to_caller : to_target) += sent;
      if (stats)
        gst_structure_free (stats);
      g_free (call_id);
    });
  gst_element_set_state (bridge_, GST_STATE_NULL);
  gst_object_unref (bridge_);
  bridge_ = nullptr;
  g_message ("call %s: bridge stopped: %" G_GUINT64_FORMAT " packets to the target, %"
      G_GUINT64_FORMAT " to the caller", caller_->id ().c_str (), to_target, to_caller);
  return {to_target, to_caller};
}

void
CallTransfer::clear_answer_timer ()
{
  if (answer_timer_ != 0) {
    g_source_remove (answer_timer_);
    answer_timer_ = 0;
  }
}

}  // namespace voxbridge::launcher
