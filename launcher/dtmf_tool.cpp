/* send_dtmf: digits from the model to siprtpsink's send-dtmf. */

#include "dtmf_tool.h"

#include <json-glib/json-glib.h>

namespace voxbridge::launcher {

std::optional<std::string>
dtmf_digits_argument (const std::string & arguments, std::string & error)
{
  JsonNode *root = json_from_string (arguments.c_str (), nullptr);
  std::optional<std::string> digits;
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonNode *member = json_object_get_member (json_node_get_object (root), "digits");
    if (member && JSON_NODE_HOLDS_VALUE (member)
        && json_node_get_value_type (member) == G_TYPE_STRING)
      digits = json_node_get_string (member);
  }
  if (root)
    json_node_unref (root);
  if (!digits) {
    error = "send_dtmf needs {\"digits\": \"...\"}";
    return std::nullopt;
  }
  if (digits->empty () || digits->size () > 64) {
    error = "digits must be 1 to 64 keys";
    return std::nullopt;
  }
  for (char & c : *digits) {
    c = g_ascii_toupper (c);
    if (!g_ascii_isdigit (c) && c != '*' && c != '#' && (c < 'A' || c > 'D')) {
      error = std::string ("'") + c + "' is not a DTMF key (0-9, *, #, A-D)";
      return std::nullopt;
    }
  }
  return digits;
}

void
send_dtmf_tool (const CallToolsHooks & hooks, const ToolCall & call, ToolDone done)
{
  std::string error;
  auto digits = dtmf_digits_argument (call.arguments, error);
  if (!digits) {
    done (tool_error_output (error));
    return;
  }
  GstElement *sink = hooks.graph_element ? hooks.graph_element ("siprtpsink") : nullptr;
  if (!sink) {
    done (tool_error_output ("this call has no RTP sender to send DTMF with"));
    return;
  }
  if (g_signal_lookup ("send-dtmf", G_OBJECT_TYPE (sink)) == 0) {
    gst_object_unref (sink);
    done (tool_error_output ("DTMF sending is not supported by this siprtpsink"));
    return;
  }
  gboolean queued = FALSE;
  g_signal_emit_by_name (sink, "send-dtmf", digits->c_str (), kDtmfDigitMs, &queued);
  gst_object_unref (sink);
  if (!queued) {
    done (tool_error_output ("the digits could not be sent (no telephone-event "
        "payload negotiated with the far end?)"));
    return;
  }
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "digits");
  json_builder_add_string_value (builder, digits->c_str ());
  json_builder_end_object (builder);
  JsonNode *node = json_builder_get_root (builder);
  gchar *text = json_to_string (node, FALSE);
  std::string output (text);
  g_free (text);
  json_node_unref (node);
  g_object_unref (builder);
  done (output);
}

}  // namespace voxbridge::launcher
