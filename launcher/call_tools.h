#pragma once
/* The tools of one call: gives the model the route's function definitions
 * (realtimesink `tools`) and dispatches each function call of the model
 * (realtime-function-call) to the tool's handler, whose output goes back to
 * the model (send-function-output). Every call gets an output: unknown tools,
 * tools without a handler and failing handlers answer {"error": "..."}; the
 * model is never left waiting.
 *
 * Built in: end_call (end_call_tool.h), send_dtmf (dtmf_tool.h), custom
 * [tool NAME] webhooks (webhook_tool.h). transfer_call is registered by the
 * call session (call_transfer.h) with register_handler.
 *
 * Events: tool.call when the model calls, tool.result when the output is
 * sent. Runs on the daemon's main context; owned by the CallSession. */

#include <gst/gst.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "call_event.h"
#include "deployment_config.h"
#include "pipeline_template.h"

namespace voxbridge::launcher {

class EndCallTool;
class WebhookClient;

/* One function call of the model. */
struct ToolCall {
  std::string id;          /* the model's call_id; the output refers to it */
  std::string name;
  std::string arguments;   /* JSON text, as the model wrote it */
};

/* Hands the function output (a JSON text) to the model. Safe to call after
 * the call ended (then it does nothing); call it once. */
using ToolDone = std::function<void (const std::string & output_json)>;

/* A tool. May call @done at once or later on the main context. */
using ToolHandler = std::function<void (const ToolCall & call, ToolDone done)>;

using CallEventFields = std::vector<std::pair<std::string, std::string>>;

/* What the tools need from their call (the CallSession provides them). */
struct CallToolsHooks {
  /* realtimesink send-function-output; false when there is no graph. */
  std::function<bool (const std::string & call_id, const std::string & output)>
      send_function_output;
  /* To the call event log and the event stream. */
  std::function<void (CallEventType type, CallEventFields fields)> publish;
  /* The first element of the running graph made by @factory (a new
   * reference), nullptr when there is none. */
  std::function<GstElement * (const char *factory)> graph_element;
  /* Hangs the call up; @outcome goes to call.ended and calls_total. */
  std::function<void (const std::string & outcome, const std::string & reason)> end_call;
};

class CallTools {
 public:
  CallTools (const DeploymentConfig & config, const Route & route,
      std::string call_id, PipelineVariables variables, CallToolsHooks hooks);
  ~CallTools ();
  CallTools (const CallTools &) = delete;
  CallTools & operator= (const CallTools &) = delete;

  /* The route's tool definitions (JSON array), "" when it has none. */
  const std::string & tools_json () const { return tools_json_; }

  /* Sets `tools` on every realtimesink of @pipeline (built, not yet
   * started), unless the route has no tools. */
  void apply_to_graph (GstElement * pipeline);

  /* Installs (or replaces) the handler of tool @name. */
  void register_handler (const std::string & name, ToolHandler handler);

  /* A realtime-function-call of the graph. */
  void dispatch (const ToolCall & call);

  /* Element messages of the graph (end_call follows the goodbye). */
  void handle_element_message (const GstStructure * s);

  const Route & route () const { return route_; }
  const CallToolsHooks & hooks () const { return hooks_; }

 private:
  void register_builtins ();
  /* Sends @output for @call and publishes tool.result. */
  void finish (const ToolCall & call, const std::string & output);

  const DeploymentConfig & config_;
  const Route & route_;
  const std::string call_id_;
  const PipelineVariables variables_;
  CallToolsHooks hooks_;
  std::string tools_json_;
  std::map<std::string, ToolHandler> handlers_;
  std::unique_ptr<EndCallTool> end_call_;
  std::unique_ptr<WebhookClient> webhooks_;   /* made at the first webhook call */
  /* Outputs that arrive after this object is gone are dropped: done
   * callbacks hold a weak reference to it. */
  std::shared_ptr<CallTools *> self_;
};

/* {"error": "@message"} */
std::string tool_error_output (const std::string & message);

/* Whether @output is an error output (a JSON object with an "error" member). */
bool is_tool_error_output (const std::string & output);

}  // namespace voxbridge::launcher
