/* A call's tools: definitions for the model, dispatch of its calls. */

#include "call_tools.h"

#include <json-glib/json-glib.h>

#include <algorithm>

#include "dtmf_tool.h"
#include "end_call_tool.h"
#include "graph_elements.h"
#include "json_text.h"
#include "tool_definitions.h"
#include "webhook_client.h"
#include "webhook_tool.h"

namespace voxbridge::launcher {

namespace {

/* Event fields stay readable: long outputs and arguments are cut. */
constexpr size_t kEventFieldLimit = 2000;

std::string
for_event (const std::string & text)
{
  if (text.size () <= kEventFieldLimit)
    return text;
  /* Do not cut inside a UTF-8 sequence. */
  size_t end = kEventFieldLimit;
  while (end > 0 && (static_cast<unsigned char> (text[end]) & 0xc0) == 0x80)
    end--;
  return text.substr (0, end) + "...";
}

}  // namespace

std::string
tool_error_output (const std::string & message)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_add_string_member (builder, "error", message);
  json_builder_end_object (builder);
  return json_builder_take_text (builder);
}

bool
is_tool_error_output (const std::string & output)
{
  JsonNode *root = json_from_string (output.c_str (), nullptr);
  const bool error = root && JSON_NODE_HOLDS_OBJECT (root)
      && json_object_has_member (json_node_get_object (root), "error");
  if (root)
    json_node_unref (root);
  return error;
}

CallTools::CallTools (const DeploymentConfig & config, const Route & route,
    std::string call_id, PipelineVariables variables, CallToolsHooks hooks)
  : config_ (config), route_ (route), call_id_ (std::move (call_id)),
    variables_ (std::move (variables)), hooks_ (std::move (hooks)),
    tools_json_ (route_tools_json (config, route)),
    self_ (std::make_shared<CallTools *> (this))
{
  register_builtins ();
}

CallTools::~CallTools () = default;

void
CallTools::register_builtins ()
{
  for (const std::string & name : route_.tools) {
    if (name == "end_call") {
      end_call_ = std::make_unique<EndCallTool> (hooks_);
      register_handler (name, [this] (const ToolCall & call, ToolDone done) {
            end_call_->handle (call, std::move (done));
          });
    } else if (name == "send_dtmf") {
      register_handler (name, [this] (const ToolCall & call, ToolDone done) {
            send_dtmf_tool (hooks_, call, std::move (done));
          });
    } else if (auto it = config_.tools.find (name); it != config_.tools.end ()) {
      const ToolSettings *tool = &it->second;
      register_handler (name, [this, tool] (const ToolCall & call, ToolDone done) {
            if (!webhooks_)
              webhooks_ = std::make_unique<WebhookClient> ();
            run_webhook_tool (*webhooks_, *tool, call_id_, variables_, call, std::move (done));
          });
    }
    /* transfer_call: registered by the call session (call_transfer.h). */
  }
}

void
CallTools::apply_to_graph (GstElement * pipeline)
{
  if (tools_json_.empty ())
    return;
  for_each_element_of_factory (pipeline, "realtimesink", [this] (GstElement * element) {
      gchar *own = nullptr;
      g_object_get (element, "tools", &own, nullptr);
      if (own && *own)
        g_message ("call %s: the route's tools replace tools= of %s", call_id_.c_str (),
            GST_OBJECT_NAME (element));
      g_free (own);
      g_object_set (element, "tools", tools_json_.c_str (), nullptr);
  });
}

void
CallTools::register_handler (const std::string & name, ToolHandler handler)
{
  handlers_[name] = std::move (handler);
}

void
CallTools::dispatch (const ToolCall & call)
{
  g_message ("call %s: the model called %s(%s)", call_id_.c_str (), call.name.c_str (),
      call.arguments.c_str ());
  if (hooks_.publish)
    hooks_.publish (CallEventType::ToolCall, {{"tool", call.name},
        {"tool_call_id", call.id}, {"arguments", for_event (call.arguments)}});

  const bool offered = std::find (route_.tools.begin (), route_.tools.end (), call.name)
      != route_.tools.end ();
  auto handler = handlers_.find (call.name);
  if (!offered || handler == handlers_.end ()) {
    finish (call, tool_error_output (offered ? "the tool " + call.name
            + " is not available on this call" : "there is no tool named " + call.name));
    return;
  }
  /* A handler may answer after this object is gone (the call ended). */
  std::weak_ptr<CallTools *> weak = self_;
  auto answered = std::make_shared<bool> (false);
  handler->second (call, [weak, call, answered] (const std::string & output) {
        auto self = weak.lock ();
        if (!self || *answered)
          return;
        *answered = true;
        (*self)->finish (call, output);
      });
}

void
CallTools::finish (const ToolCall & call, const std::string & output)
{
  const bool error = is_tool_error_output (output);
  g_message ("call %s: %s %s: %s", call_id_.c_str (), call.name.c_str (),
      error ? "failed" : "answered", output.c_str ());
  if (hooks_.publish)
    hooks_.publish (CallEventType::ToolResult, {{"tool", call.name},
        {"tool_call_id", call.id}, {"result", error ? "error" : "ok"},
        {"output", for_event (output)}});
  if (!hooks_.send_function_output || !hooks_.send_function_output (call.id, output))
    g_message ("call %s: the output of %s was not delivered (no AI session)",
        call_id_.c_str (), call.name.c_str ());
}

void
CallTools::handle_element_message (const GstStructure * s)
{
  if (end_call_)
    end_call_->handle_element_message (s);
}

}  // namespace voxbridge::launcher
