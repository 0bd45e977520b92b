/* Custom tools: the model's call to the webhook, its answer to the model. */

#include "webhook_tool.h"
#include "json_text.h"

#include <json-glib/json-glib.h>

namespace voxbridge::launcher {

bool
is_webhook_variable (const std::string & name)
{
  static const char *const exact[] = {"call.id", "call.direction", "route.name",
      "request.user", "from.uri", "from.user", "to.uri", "to.user", "uui"};
  for (const char *e : exact) {
    if (name == e)
      return true;
  }
  return name.rfind ("var.", 0) == 0 || name.rfind ("header.x-", 0) == 0;
}

std::optional<std::string>
webhook_request_body (const std::string & call_id, const ToolCall & call,
    const PipelineVariables & variables, std::string & error)
{
  GError *err = nullptr;
  JsonNode *arguments = json_from_string (call.arguments.empty () ? "{}" : call.arguments.c_str (),
      &err);
  if (!arguments || !JSON_NODE_HOLDS_OBJECT (arguments)) {
    error = std::string ("the arguments are not a JSON object")
        + (err ? std::string (" (") + err->message + ")" : "");
    g_clear_error (&err);
    if (arguments)
      json_node_unref (arguments);
    return std::nullopt;
  }
  if (json_has_non_finite (arguments)) {
    error = "the arguments hold a number too large for JSON";
    json_node_unref (arguments);
    return std::nullopt;
  }
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "call_id");
  json_builder_add_string_value (builder, call_id.c_str ());
  json_builder_set_member_name (builder, "tool");
  json_builder_add_string_value (builder, call.name.c_str ());
  json_builder_set_member_name (builder, "tool_call_id");
  json_builder_add_string_value (builder, call.id.c_str ());
  json_builder_set_member_name (builder, "arguments");
  json_builder_add_value (builder, arguments);   /* takes it */
  json_builder_set_member_name (builder, "variables");
  json_builder_begin_object (builder);
  for (const auto & [name, value] : variables) {
    if (!is_webhook_variable (name))
      continue;
    json_add_string_member (builder, name, value);
  }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_take_text (builder);
}

std::string
webhook_function_output (const ToolSettings & tool, const WebhookResult & result)
{
  const std::string who = "the " + tool.name + " service";
  if (result.timed_out)
    return tool_error_output (who + " did not answer within "
        + std::to_string (tool.timeout_ms) + " ms");
  if (!result.error.empty ())
    return tool_error_output (who + " could not be reached: " + result.error);
  if (result.status < 200 || result.status >= 300)
    return tool_error_output (who + " failed: HTTP " + std::to_string (result.status)
        + (result.reason.empty () ? "" : " " + result.reason));
  GError *err = nullptr;
  JsonNode *answer = json_from_string (result.body.c_str (), &err);
  if (!answer) {
    std::string why = err ? err->message : "empty answer";
    g_clear_error (&err);
    return tool_error_output (who + " answered with invalid JSON: " + why);
  }
  if (json_has_non_finite (answer)) {
    json_node_unref (answer);
    return tool_error_output (who + " answered with a number too large for JSON");
  }
  /* Compact, one line, valid UTF-8: what the model reads. */
  gchar *text = json_to_string (answer, FALSE);
  std::string out (text);
  g_free (text);
  json_node_unref (answer);
  return out;
}

void
run_webhook_tool (WebhookClient & client, const ToolSettings & tool,
    const std::string & call_id, const PipelineVariables & variables,
    const ToolCall & call, ToolDone done)
{
  std::string error;
  auto body = webhook_request_body (call_id, call, variables, error);
  if (!body) {
    done (tool_error_output (error));
    return;
  }
  WebhookRequest request;
  request.url = tool.url;
  request.json_body = *body;
  request.timeout_ms = tool.timeout_ms;
  if (!tool.token_env.empty ()) {
    const char *token = g_getenv (tool.token_env.c_str ());
    if (!token || !*token) {
      g_warning ("tool %s: environment variable %s (token-env) is not set",
          tool.name.c_str (), tool.token_env.c_str ());
      done (tool_error_output ("the " + tool.name + " service is not configured "
          "(its token is missing)"));
      return;
    }
    request.bearer_token = token;
  }
  ToolSettings settings = tool;
  client.post_json (request, [settings, done] (const WebhookResult & result) {
        done (webhook_function_output (settings, result));
      });
}

}  // namespace voxbridge::launcher
