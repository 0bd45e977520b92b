/* Out-of-band text summary of a call, asked of the model at hang-up. */

#include "call_summary.h"

#include "graph_elements.h"

namespace voxbridge::launcher {

namespace {

constexpr const char *kTag = "call-summary";

}  // namespace

const char *
CallSummary::instructions ()
{
  return "Summarise this call for the agent who handles it next: in at most three "
      "sentences, say what the caller wanted, what was answered or done, and anything "
      "left open. Write plain text, no lists.";
}

CallSummary::CallSummary (guint timeout_s) : timeout_s_ (timeout_s)
{
}

CallSummary::~CallSummary ()
{
  if (timer_ != 0)
    g_source_remove (timer_);
  if (idle_ != 0)
    g_source_remove (idle_);
  if (sink_)
    gst_object_unref (sink_);
}

void
CallSummary::on_message (GstMessage * message)
{
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
    return;
  const GstStructure *s = gst_message_get_structure (message);
  if (!s)
    return;
  const char *response_id = gst_structure_get_string (s, "response-id");
  const std::string id = response_id ? response_id : "";
  if (gst_structure_has_name (s, "realtime-response-started")) {
    const char *tag = gst_structure_get_string (s, "tag");
    if (tag && g_str_equal (tag, kTag))
      response_id_ = id;
    else if (!tag || !*tag)
      spoken_responses_active_++;
  } else if (gst_structure_has_name (s, "realtime-response-done")) {
    if (!response_id_.empty () && id == response_id_) {
      const char *status = gst_structure_get_string (s, "status");
      if (done_ && status && !g_str_equal (status, "completed"))
        finish ("", std::string ("the summary response ended ") + status);
      return;
    }
    if (spoken_responses_active_ > 0)
      spoken_responses_active_--;
    if (waiting_to_send_ && spoken_responses_active_ == 0)
      send_request ();
  } else if (gst_structure_has_name (s, "realtime-output-text")) {
    gboolean final = FALSE;
    gst_structure_get_boolean (s, "final", &final);
    if (final && done_ && !response_id_.empty () && id == response_id_) {
      const char *text = gst_structure_get_string (s, "text");
      finish (text ? text : "", "");
    }
  }
}

void
CallSummary::request (GstElement * pipeline, Done done)
{
  done_ = std::move (done);
  timer_ = g_timeout_add_seconds (timeout_s_, on_timeout, this);
  sink_ = find_element_of_factory (pipeline, "realtimesink");
  if (!sink_) {
    fail_later ("the graph has no realtimesink");
    return;
  }
  if (spoken_responses_active_ > 0) {
    g_message ("summary: waiting for the answer being generated to end");
    waiting_to_send_ = true;
    return;
  }
  send_request ();
}

void
CallSummary::send_request ()
{
  waiting_to_send_ = false;
  if (sent_ || !done_)
    return;
  sent_ = true;
  gboolean queued = FALSE;
  g_signal_emit_by_name (sink_, "request-text-response", instructions (), kTag, &queued);
  if (!queued)
    fail_later ("the AI session is not usable");
}

void
CallSummary::fail_later (const std::string & error)
{
  idle_error_ = error;
  if (idle_ != 0)
    return;
  idle_ = g_idle_add ([] (gpointer data) -> gboolean {
        auto *self = static_cast<CallSummary *> (data);
        self->idle_ = 0;
        self->finish ("", self->idle_error_);
        return G_SOURCE_REMOVE;
      }, this);
}

gboolean
CallSummary::on_timeout (gpointer data)
{
  auto *self = static_cast<CallSummary *> (data);
  self->timer_ = 0;
  self->finish ("", "no summary within " + std::to_string (self->timeout_s_) + " s");
  return G_SOURCE_REMOVE;
}

void
CallSummary::finish (const std::string & text, const std::string & error)
{
  if (!done_)
    return;
  if (timer_ != 0) {
    g_source_remove (timer_);
    timer_ = 0;
  }
  Done done = std::move (done_);
  done_ = nullptr;
  done (text, error);
}

}  // namespace voxbridge::launcher
