/* end_call: answer, wait for the goodbye to be played out, hang up. */

#include "end_call_tool.h"

#include <json-glib/json-glib.h>

namespace voxbridge::launcher {

namespace {

constexpr guint kPollMs = 20;
/* Polls in a row with nothing queued anywhere: the frame last taken from
 * realtimesrc has passed the queue in between and left siprtpsink. */
constexpr guint kQuietPolls = 3;
/* Without siprtpsink's queued-ms: time for the graph's queue (200 ms in the
 * shipped pipelines) to empty after realtimesrc ran dry. */
constexpr guint kQuietPollsWithoutSinkLevel = 200 / kPollMs;

/* The "reason" argument of end_call, "" when absent or not a string. */
std::string
reason_argument (const std::string & arguments)
{
  JsonNode *root = json_from_string (arguments.c_str (), nullptr);
  std::string out;
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonObject *obj = json_node_get_object (root);
    JsonNode *reason = json_object_get_member (obj, "reason");
    if (reason && JSON_NODE_HOLDS_VALUE (reason)
        && json_node_get_value_type (reason) == G_TYPE_STRING)
      out = json_node_get_string (reason);
  }
  if (root)
    json_node_unref (root);
  return out;
}

/* @element's @property (a ms level), or -1 when it has no such property. */
gint64
queued_ms (GstElement * element, const char *property = "queued-ms")
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), property);
  if (!pspec || !(pspec->flags & G_PARAM_READABLE))
    return -1;
  GValue value = G_VALUE_INIT, as_int = G_VALUE_INIT;
  g_value_init (&value, pspec->value_type);
  g_value_init (&as_int, G_TYPE_INT64);
  g_object_get_property (G_OBJECT (element), property, &value);
  gint64 out = -1;
  if (g_value_transform (&value, &as_int))
    out = g_value_get_int64 (&as_int);
  g_value_unset (&value);
  g_value_unset (&as_int);
  return out;
}

}  // namespace

EndCallTool::EndCallTool (const CallToolsHooks & hooks, guint limit_ms)
  : hooks_ (hooks), limit_ms_ (limit_ms),
    silence_frames_ (std::make_shared<std::atomic<guint>> (0))
{
}

EndCallTool::~EndCallTool ()
{
  clear_timers ();
}

void
EndCallTool::handle (const ToolCall & call, ToolDone done)
{
  if (stage_ != Stage::kIdle) {
    done (tool_error_output ("the call is already ending"));
    return;
  }
  reason_ = reason_argument (call.arguments);
  stage_ = Stage::kAwaitingResponse;
  called_at_us_ = g_get_monotonic_time ();
  limit_timer_ = g_timeout_add (limit_ms_, on_limit, this);
  watch_silence_frames ();
  /* The output makes the model answer: that answer is the goodbye. */
  done ("{\"ok\":true,\"message\":\"The call will be hung up once your goodbye has "
      "been played. Say goodbye now.\"}");
}

void
EndCallTool::watch_silence_frames ()
{
  GstElement *src = hooks_.graph_element ? hooks_.graph_element ("realtimesrc") : nullptr;
  if (!src)
    return;
  probed_pad_ = gst_element_get_static_pad (src, "src");
  gst_object_unref (src);
  if (!probed_pad_)
    return;
  probe_id_ = gst_pad_add_probe (probed_pad_, GST_PAD_PROBE_TYPE_BUFFER,
      [] (GstPad *, GstPadProbeInfo * info, gpointer data) -> GstPadProbeReturn {
        auto & frames = **static_cast<std::shared_ptr<std::atomic<guint>> *> (data);
        GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
        if (buffer && GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP))
          frames++;
        return GST_PAD_PROBE_OK;
      },
      new std::shared_ptr<std::atomic<guint>> (silence_frames_),
      [] (gpointer data) { delete static_cast<std::shared_ptr<std::atomic<guint>> *> (data); });
}

void
EndCallTool::handle_element_message (const GstStructure * s)
{
  const char *name = gst_structure_get_name (s);
  const char *response_id = gst_structure_get_string (s, "response-id");
  if (stage_ == Stage::kAwaitingResponse && g_str_equal (name, "realtime-response-started")) {
    /* The first response after the output (the one that carried the call
     * is done before or soon after; it was created before). */
    response_id_ = response_id ? response_id : "";
    stage_ = Stage::kSpeaking;
  } else if (stage_ == Stage::kSpeaking && g_str_equal (name, "realtime-response-done")
      && response_id_ == (response_id ? response_id : "")) {
    start_draining ();
  }
}

void
EndCallTool::start_draining ()
{
  stage_ = Stage::kDraining;
  *silence_frames_ = 0;
  quiet_polls_ = 0;
  drain_started_us_ = g_get_monotonic_time ();
  poll_timer_ = g_timeout_add (kPollMs, on_poll, this);
}

bool
EndCallTool::drained ()
{
  bool src_empty = true, sink_has_level = false, sink_empty = true;
  if (GstElement *src = hooks_.graph_element ("realtimesrc")) {
    const gint64 queued = queued_ms (src);
    /* Two silence frames: the second was taken after the goodbye was done. */
    src_empty = queued >= 0 ? queued == 0 : silence_frames_->load () >= 2;
    gst_object_unref (src);
  }
  if (GstElement *sink = hooks_.graph_element ("siprtpsink")) {
    /* Model audio still to send; the silence fill after it does not count. */
    gint64 queued = queued_ms (sink, "pending-audio-ms");
    if (queued < 0)
      queued = queued_ms (sink);
    sink_has_level = queued >= 0;
    sink_empty = queued <= 0;
    gst_object_unref (sink);
  }
  g_debug ("end_call: draining: realtimesrc %s, siprtpsink %s",
      src_empty ? "empty" : "playing", sink_has_level ? (sink_empty ? "empty" : "sending")
      : "(no queued-ms)");
  if (src_empty && sink_empty)
    quiet_polls_++;
  else
    quiet_polls_ = 0;
  return quiet_polls_ >= (sink_has_level ? kQuietPolls : kQuietPollsWithoutSinkLevel);
}

gboolean
EndCallTool::on_poll (gpointer data)
{
  auto *self = static_cast<EndCallTool *> (data);
  if (!self->drained ())
    return G_SOURCE_CONTINUE;
  self->poll_timer_ = 0;
  g_message ("end_call: goodbye played %.0f ms after the response was done (%.0f ms after "
      "end_call)", (g_get_monotonic_time () - self->drain_started_us_) / 1000.0,
      (g_get_monotonic_time () - self->called_at_us_) / 1000.0);
  self->hang_up ("");
  return G_SOURCE_REMOVE;
}

gboolean
EndCallTool::on_limit (gpointer data)
{
  auto *self = static_cast<EndCallTool *> (data);
  self->limit_timer_ = 0;
  static const char *const stages[] = {"idle", "waiting for the goodbye response",
      "goodbye being sent", "goodbye still queued towards the caller", "done"};
  const std::string why = "goodbye not played within " + std::to_string (self->limit_ms_)
      + " ms (" + stages[static_cast<int> (self->stage_)] + ")";
  g_message ("end_call: %s, hanging up anyway", why.c_str ());
  self->hang_up (why);
  return G_SOURCE_REMOVE;
}

void
EndCallTool::hang_up (const std::string & why)
{
  stage_ = Stage::kDone;
  clear_timers ();
  std::string reason = "ended by the AI";
  if (!reason_.empty ())
    reason += ": " + reason_;
  if (!why.empty ())
    reason += " (" + why + ")";
  if (hooks_.end_call)
    hooks_.end_call ("ended_by_ai", reason);
}

void
EndCallTool::clear_timers ()
{
  if (poll_timer_ != 0) {
    g_source_remove (poll_timer_);
    poll_timer_ = 0;
  }
  if (limit_timer_ != 0) {
    g_source_remove (limit_timer_);
    limit_timer_ = 0;
  }
  if (probed_pad_) {
    gst_pad_remove_probe (probed_pad_, probe_id_);
    gst_object_unref (probed_pad_);
    probed_pad_ = nullptr;
    probe_id_ = 0;
  }
}

}  // namespace voxbridge::launcher
