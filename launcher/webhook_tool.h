#pragma once
/* A custom tool ([tool NAME]) answered by a webhook: the call of the model
 * is POSTed as JSON
 *   {"call_id", "tool", "tool_call_id", "arguments": {...}, "variables": {...}}
 * (variables: the call's from/to/request users and URIs, uui, X- headers,
 * var.*, call.id, call.direction, route.name) with the tool's bearer token;
 * a 2xx JSON answer is the function output; a timeout, another status, a
 * body that is not JSON or no answer at all give the model an error output
 * that names the cause. */

#include <optional>
#include <string>

#include "call_tools.h"
#include "webhook_client.h"

namespace voxbridge::launcher {

/* Whether call variable @name goes to webhooks. */
bool is_webhook_variable (const std::string & name);

/* The POST body; nullopt with @error when the arguments are not a JSON object. */
std::optional<std::string> webhook_request_body (const std::string & call_id,
    const ToolCall & call, const PipelineVariables & variables, std::string & error);

/* The function output for the webhook's @result. */
std::string webhook_function_output (const ToolSettings & tool, const WebhookResult & result);

/* Runs @call against @tool's webhook with @client; @done gets the output. */
void run_webhook_tool (WebhookClient & client, const ToolSettings & tool,
    const std::string & call_id, const PipelineVariables & variables,
    const ToolCall & call, ToolDone done);

}  // namespace voxbridge::launcher
