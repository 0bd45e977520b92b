/* Tools of a call: the config keys (tables of accepted and rejected
 * configs with file:line), the tool definitions given to the model, the
 * send_dtmf argument, the webhook request body and the outputs of every
 * webhook outcome, and CallTools' dispatch with recorded hooks: unknown
 * tools, a webhook round trip against a local libsoup server (ok, 500,
 * invalid JSON, timeout) and end_call waiting for the goodbye's
 * response.done before it hangs up. */

#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <optional>

#include "call_tools.h"
#include "dtmf_tool.h"
#include "test_helpers.h"
#include "tool_definitions.h"
#include "webhook_tool.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;

namespace {

const std::string HEAD =
    "[sip]\n"                                          // 1
    "listen = udp://127.0.0.1:5060\n"                  // 2
    "media-address = 127.0.0.1\n"                      // 3
    "[ai]\n"                                           // 4
    "url = ws://127.0.0.1:8765/v1/realtime\n";         // 5

/* Line 6 on. */
std::string
route (const std::string & extra)
{
  return "[route support]\n"
      "pipeline = ../pipelines/echo-test.pipeline\n" + extra;
}

const std::string LOOKUP_TOOL =
    "[tool lookup_order]\n"
    "description = Looks up an order by its number\n"
    "parameters = {\"type\":\"object\",\"properties\":{\"order\":{\"type\":\"string\"}}}\n"
    "url = http://127.0.0.1:9/lookup\n"
    "timeout-ms = 2500\n"
    "token-env = CRM_TOKEN\n";

ConfigLoadResult
parse (const std::string & text)
{
  return parse_deployment_config (text, source_path ("examples/test.conf"));
}

std::string
diagnostics (const ConfigLoadResult & result)
{
  std::string out;
  for (const auto & d : result.diagnostics)
    out += d.to_string () + "\n";
  return out;
}

JsonNode *
parse_json (const std::string & text)
{
  GError *err = nullptr;
  JsonNode *node = json_from_string (text.c_str (), &err);
  EXPECT_TRUE (node) << text << ": " << (err ? err->message : "");
  g_clear_error (&err);
  return node;
}

}  // namespace

TEST (ToolsConfig, RouteToolsAndWebhookTool)
{
  auto result = parse (HEAD + route ("tools = end_call, send_dtmf, transfer_call, lookup_order\n"
      "transfer-target = sip:agent@pbx.example.com\n") + LOOKUP_TOOL);
  ASSERT_TRUE (result.ok ()) << diagnostics (result);
  EXPECT_TRUE (result.diagnostics.empty ()) << diagnostics (result);
  const Route & r = result.config->routes[0];
  EXPECT_EQ (r.tools, (std::vector<std::string> {"end_call", "send_dtmf", "transfer_call",
      "lookup_order"}));
  EXPECT_EQ (r.transfer_target, "sip:agent@pbx.example.com");
  const ToolSettings & tool = result.config->tools.at ("lookup_order");
  EXPECT_EQ (tool.description, "Looks up an order by its number");
  EXPECT_EQ (tool.url, "http://127.0.0.1:9/lookup");
  EXPECT_EQ (tool.timeout_ms, 2500u);
  EXPECT_EQ (tool.token_env, "CRM_TOKEN");

  /* What the model is given: GA function definitions, in the route's order. */
  const std::string json = route_tools_json (*result.config, r);
  JsonNode *root = parse_json (json);
  ASSERT_TRUE (root && JSON_NODE_HOLDS_ARRAY (root));
  JsonArray *tools = json_node_get_array (root);
  ASSERT_EQ (json_array_get_length (tools), 4u);
  const char *names[] = {"end_call", "send_dtmf", "transfer_call", "lookup_order"};
  for (guint i = 0; i < 4; i++) {
    JsonObject *t = json_array_get_object_element (tools, i);
    EXPECT_STREQ (json_object_get_string_member (t, "type"), "function");
    EXPECT_STREQ (json_object_get_string_member (t, "name"), names[i]);
    EXPECT_TRUE (*json_object_get_string_member (t, "description"));
    JsonObject *params = json_object_get_object_member (t, "parameters");
    ASSERT_TRUE (params) << names[i];
    EXPECT_STREQ (json_object_get_string_member (params, "type"), "object");
  }
  JsonObject *lookup = json_array_get_object_element (tools, 3);
  EXPECT_TRUE (json_object_has_member (json_object_get_object_member (
      json_object_get_object_member (lookup, "parameters"), "properties"), "order"));
  json_node_unref (root);
}

TEST (ToolsConfig, NoToolsNoDefinitions)
{
  auto result = parse (HEAD + route (""));
  ASSERT_TRUE (result.ok ()) << diagnostics (result);
  EXPECT_EQ (route_tools_json (*result.config, result.config->routes[0]), "");
}

TEST (ToolsConfig, DefaultParametersAndTimeout)
{
  auto result = parse (HEAD + route ("tools = ping\n") +
      "[tool ping]\ndescription = Is the CRM up?\nurl = https://crm.example.com/ping\n");
  ASSERT_TRUE (result.ok ()) << diagnostics (result);
  const ToolSettings & tool = result.config->tools.at ("ping");
  EXPECT_EQ (tool.timeout_ms, 5000u);
  EXPECT_EQ (tool.parameters_json, "{\"type\":\"object\",\"properties\":{}}");
}

struct BadToolsConfig {
  const char *what;
  std::string text;
  int line;
  const char *message;
  bool warning = false;
};

class BadToolsConfigs : public ::testing::TestWithParam<BadToolsConfig> {};

TEST_P (BadToolsConfigs, NameTheLine)
{
  const BadToolsConfig & c = GetParam ();
  auto result = parse (c.text);
  const auto severity = c.warning ? ConfigDiagnostic::Severity::Warning
      : ConfigDiagnostic::Severity::Error;
  const ConfigDiagnostic *found = nullptr;
  for (const auto & d : result.diagnostics) {
    if (d.severity == severity && d.message.find (c.message) != std::string::npos)
      found = &d;
  }
  ASSERT_TRUE (found) << c.what << ": expected '" << c.message << "' in\n" << diagnostics (result);
  EXPECT_EQ (found->line, c.line) << found->to_string ();
  EXPECT_EQ (result.ok (), c.warning) << diagnostics (result);
}

INSTANTIATE_TEST_SUITE_P (Tools, BadToolsConfigs, ::testing::Values (
    BadToolsConfig {"undefined tool", HEAD + route ("tools = end_call, lookup\n"), 8,
        "no [tool lookup] section for 'lookup' (built-in tools: end_call, transfer_call, send_dtmf)"},
    BadToolsConfig {"bad name", HEAD + route ("tools = end call\n"), 8,
        "'end call' is not a tool name"},
    BadToolsConfig {"twice", HEAD + route ("tools = end_call,end_call\n"), 8,
        "'end_call' is listed twice"},
    BadToolsConfig {"transfer without target", HEAD + route ("tools = transfer_call\n"), 8,
        "transfer_call needs transfer-target"},
    BadToolsConfig {"target not SIP", HEAD + route ("tools = transfer_call\n"
        "transfer-target = tel:+15550100\n"), 9, "is not a SIP URI"},
    BadToolsConfig {"target unused", HEAD + route ("transfer-target = sip:a@b\n"), 8,
        "unused: transfer_call is not in tools", true},
    BadToolsConfig {"tool unused", HEAD + route ("") + LOOKUP_TOOL, 8,
        "no route lists this tool", true},
    BadToolsConfig {"built-in redefined", HEAD + route ("tools = end_call\n")
        + "[tool end_call]\ndescription = x\nurl = http://a/\n", 9, "is a built-in tool"},
    BadToolsConfig {"no description", HEAD + route ("tools = t\n")
        + "[tool t]\nurl = http://a/\n", 9, "missing; tells the model what the tool does"},
    BadToolsConfig {"parameters not JSON", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = http://a/\nparameters = {type: object\n", 12,
        "not JSON"},
    BadToolsConfig {"parameters not an object", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = http://a/\nparameters = [1]\n", 12,
        "must be a JSON schema object"},
    BadToolsConfig {"no url", HEAD + route ("tools = t\n") + "[tool t]\ndescription = d\n", 9,
        "missing; the webhook the tool's calls are POSTed to"},
    BadToolsConfig {"url not http", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = ftp://a/x\n", 11, "is not an http:// or https:// URL"},
    BadToolsConfig {"timeout out of range", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = http://a/\ntimeout-ms = 10\n", 12,
        "between 100 and 60000"},
    BadToolsConfig {"token not a variable name", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = http://a/\ntoken-env = abc def\n", 12,
        "is not an environment variable name"},
    BadToolsConfig {"unknown key", HEAD + route ("tools = t\n")
        + "[tool t]\ndescription = d\nurl = http://a/\nmethod = GET\n", 12, "unknown key"}));

TEST (SendDtmfArgument, Table)
{
  struct Row {
    const char *arguments;
    const char *digits;   /* nullptr: refused */
    const char *error;
  } rows[] = {
    {"{\"digits\":\"123#\"}", "123#", nullptr},
    {"{\"digits\":\"*9ab\"}", "*9AB", nullptr},
    {"{\"digits\":\"\"}", nullptr, "1 to 64 keys"},
    {"{\"digits\":\"12e\"}", nullptr, "'E' is not a DTMF key"},
    {"{\"digits\":12}", nullptr, "needs {\"digits\""},
    {"{}", nullptr, "needs {\"digits\""},
    {"not json", nullptr, "needs {\"digits\""},
  };
  for (const Row & row : rows) {
    std::string error;
    auto digits = dtmf_digits_argument (row.arguments, error);
    if (row.digits) {
      EXPECT_EQ (digits.value_or ("(refused: " + error + ")"), row.digits) << row.arguments;
    } else {
      EXPECT_FALSE (digits) << row.arguments;
      EXPECT_NE (error.find (row.error), std::string::npos) << row.arguments << ": " << error;
    }
  }
}

TEST (WebhookTool, RequestBodyCarriesArgumentsAndCallVariables)
{
  PipelineVariables vars = {{"call.id", "c1"}, {"from.user", "+15550123"},
      {"to.user", "+15550100"}, {"uui", "00ff"}, {"header.x-amzn-connectcontactid", "abc"},
      {"header.via", "SIP/2.0/UDP x"}, {"var.queue", "billing"}, {"ai.key-env", "KEY"},
      {"rtp.port", "20000"}};
  ToolCall call {"fc_1", "lookup_order", "{\"order\":\"A17\"}"};
  std::string error;
  auto body = webhook_request_body ("c1", call, vars, error);
  ASSERT_TRUE (body) << error;
  JsonNode *root = parse_json (*body);
  JsonObject *obj = json_node_get_object (root);
  EXPECT_STREQ (json_object_get_string_member (obj, "call_id"), "c1");
  EXPECT_STREQ (json_object_get_string_member (obj, "tool"), "lookup_order");
  EXPECT_STREQ (json_object_get_string_member (obj, "tool_call_id"), "fc_1");
  EXPECT_STREQ (json_object_get_string_member (
      json_object_get_object_member (obj, "arguments"), "order"), "A17");
  JsonObject *v = json_object_get_object_member (obj, "variables");
  for (const char *kept : {"call.id", "from.user", "to.user", "uui",
           "header.x-amzn-connectcontactid", "var.queue"})
    EXPECT_TRUE (json_object_has_member (v, kept)) << kept;
  for (const char *left_out : {"header.via", "ai.key-env", "rtp.port"})
    EXPECT_FALSE (json_object_has_member (v, left_out)) << left_out;
  json_node_unref (root);

  EXPECT_FALSE (webhook_request_body ("c1", {"fc_2", "lookup_order", "[1,2"}, vars, error));
  EXPECT_NE (error.find ("not a JSON object"), std::string::npos) << error;
}

TEST (WebhookTool, OutputOfEveryOutcome)
{
  ToolSettings tool;
  tool.name = "lookup_order";
  tool.timeout_ms = 3000;
  auto result = [] (guint status, const char *reason, const char *body, const char *error,
      bool timed_out) {
    WebhookResult r;
    r.status = status;
    r.reason = reason;
    r.body = body;
    r.error = error;
    r.timed_out = timed_out;
    return r;
  };
  struct Row {
    WebhookResult result;
    const char *output;
  } rows[] = {
    {result (200, "OK", "{ \"status\": \"shipped\" }\n", "", false), "{\"status\":\"shipped\"}"},
    {result (200, "OK", "[1, 2]", "", false), "[1,2]"},
    {result (201, "Created", "\"done\"", "", false), "\"done\""},
    {result (0, "", "", "no answer within 3000 ms", true),
        "{\"error\":\"the lookup_order service did not answer within 3000 ms\"}"},
    {result (0, "", "", "Could not connect to 127.0.0.1: Connection refused", false),
        "{\"error\":\"the lookup_order service could not be reached: Could not connect to "
        "127.0.0.1: Connection refused\"}"},
    {result (500, "Internal Server Error", "{\"x\":1}", "", false),
        "{\"error\":\"the lookup_order service failed: HTTP 500 Internal Server Error\"}"},
    {result (302, "Found", "", "", false),
        "{\"error\":\"the lookup_order service failed: HTTP 302 Found\"}"},
  };
  for (const Row & row : rows)
    EXPECT_EQ (webhook_function_output (tool, row.result), row.output) << row.result.body;

  const std::string bad = webhook_function_output (tool, result (200, "OK", "{oops", "", false));
  EXPECT_TRUE (g_str_has_prefix (bad.c_str (),
      "{\"error\":\"the lookup_order service answered with invalid JSON: ")) << bad;
  EXPECT_TRUE (is_tool_error_output (bad));
  EXPECT_FALSE (is_tool_error_output ("{\"status\":\"shipped\"}"));
  EXPECT_FALSE (is_tool_error_output ("[1]"));
}

/* ------------------------------------------------------------------ */
/* CallTools with recorded hooks and a local webhook server.            */

namespace {

class CallToolsTest : public ::testing::Test {
 protected:
  void SetUp () override
  {
    gst_init (nullptr, nullptr);
    server_ = soup_server_new (nullptr, nullptr);
    soup_server_add_handler (server_, nullptr, on_request, this, nullptr);
    ASSERT_TRUE (soup_server_listen_local (server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr));
    GSList *uris = soup_server_get_uris (server_);
    port_ = g_uri_get_port (static_cast<GUri *> (uris->data));
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    g_setenv ("CALL_TOOLS_TEST_TOKEN", "tok", TRUE);

    const std::string base = "http://127.0.0.1:" + std::to_string (port_);
    auto result = parse (HEAD + route ("tools = end_call, lookup_order, slow_tool\n") +
        "[tool lookup_order]\ndescription = d\nurl = " + base + "/lookup\n"
        "token-env = CALL_TOOLS_TEST_TOKEN\n"
        "[tool slow_tool]\ndescription = d\nurl = " + base + "/slow\ntimeout-ms = 200\n");
    ASSERT_TRUE (result.ok ()) << diagnostics (result);
    config_ = *result.config;

    CallToolsHooks hooks;
    hooks.send_function_output = [this] (const std::string & id, const std::string & output) {
      outputs_.emplace_back (id, output);
      return true;
    };
    hooks.publish = [this] (CallEventType type, CallEventFields fields) {
      events_.emplace_back (type, std::move (fields));
    };
    hooks.graph_element = [] (const char *) -> GstElement * { return nullptr; };
    hooks.end_call = [this] (const std::string & outcome, const std::string & reason) {
      ended_ = outcome + ": " + reason;
    };
    tools_ = std::make_unique<CallTools> (config_, config_.routes[0], "call-7",
        PipelineVariables {{"to.user", "+15550100"}, {"var.queue", "billing"}},
        std::move (hooks));
  }

  void TearDown () override
  {
    tools_.reset ();
    for (SoupServerMessage *m : paused_)
      soup_server_message_unpause (m);
    soup_server_disconnect (server_);
    g_object_unref (server_);
    while (g_main_context_iteration (nullptr, FALSE)) {
    }
  }

  static void on_request (SoupServer *, SoupServerMessage * msg, const char * path,
      GHashTable *, gpointer data)
  {
    auto *self = static_cast<CallToolsTest *> (data);
    GBytes *bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
    gsize size = 0;
    const char *body = static_cast<const char *> (g_bytes_get_data (bytes, &size));
    self->requests_.emplace_back (body ? std::string (body, size) : "");
    g_bytes_unref (bytes);
    const char *auth = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "Authorization");
    self->auth_ = auth ? auth : "";
    if (g_str_equal (path, "/slow")) {
      soup_server_message_pause (msg);
      self->paused_.push_back (msg);
      return;
    }
    soup_server_message_set_status (msg, self->status_, nullptr);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
        self->answer_.data (), self->answer_.size ());
  }

  /* Runs the main context until @n outputs were sent (or 10 s). */
  void wait_outputs (size_t n)
  {
    const gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (outputs_.size () < n && g_get_monotonic_time () < deadline)
      g_main_context_iteration (nullptr, TRUE);
    ASSERT_EQ (outputs_.size (), n);
  }

  const CallEventFields *event (CallEventType type, size_t nth = 0) const
  {
    for (const auto & [t, fields] : events_) {
      if (t == type && nth-- == 0)
        return &fields;
    }
    return nullptr;
  }

  static std::string field (const CallEventFields * fields, const std::string & name)
  {
    if (fields) {
      for (const auto & [k, v] : *fields)
        if (k == name)
          return v;
    }
    return "(none)";
  }

  SoupServer *server_ = nullptr;
  guint port_ = 0;
  guint status_ = 200;
  std::string answer_ = "{\"status\":\"shipped\"}";
  std::vector<std::string> requests_;
  std::vector<SoupServerMessage *> paused_;
  std::string auth_;
  DeploymentConfig config_;
  std::unique_ptr<CallTools> tools_;
  std::vector<std::pair<std::string, std::string>> outputs_;
  std::vector<std::pair<CallEventType, CallEventFields>> events_;
  std::string ended_;
};

}  // namespace

TEST_F (CallToolsTest, UnknownAndUnregisteredToolsGetAnErrorOutput)
{
  tools_->dispatch ({"fc_1", "format_disk", "{}"});
  ASSERT_EQ (outputs_.size (), 1u);
  EXPECT_EQ (outputs_[0], std::make_pair (std::string ("fc_1"),
      std::string ("{\"error\":\"there is no tool named format_disk\"}")));
  EXPECT_EQ (field (event (CallEventType::ToolCall), "tool"), "format_disk");
  EXPECT_EQ (field (event (CallEventType::ToolResult), "result"), "error");
  EXPECT_TRUE (requests_.empty ());
}

TEST_F (CallToolsTest, WebhookRoundTrip)
{
  tools_->dispatch ({"fc_1", "lookup_order", "{\"order\":\"A17\"}"});
  EXPECT_TRUE (outputs_.empty ()) << "answered before the webhook did";
  wait_outputs (1);
  EXPECT_EQ (outputs_[0].first, "fc_1");
  EXPECT_EQ (outputs_[0].second, "{\"status\":\"shipped\"}");
  EXPECT_EQ (auth_, "Bearer tok");
  ASSERT_EQ (requests_.size (), 1u);
  EXPECT_NE (requests_[0].find ("\"var.queue\":\"billing\""), std::string::npos) << requests_[0];
  EXPECT_NE (requests_[0].find ("\"order\":\"A17\""), std::string::npos) << requests_[0];
  EXPECT_EQ (field (event (CallEventType::ToolCall), "arguments"), "{\"order\":\"A17\"}");
  EXPECT_EQ (field (event (CallEventType::ToolResult), "result"), "ok");
  EXPECT_EQ (field (event (CallEventType::ToolResult), "output"), "{\"status\":\"shipped\"}");
}

TEST_F (CallToolsTest, WebhookFailuresReachTheModel)
{
  status_ = 500;
  tools_->dispatch ({"fc_1", "lookup_order", "{}"});
  wait_outputs (1);
  EXPECT_EQ (outputs_[0].second,
      "{\"error\":\"the lookup_order service failed: HTTP 500 Internal Server Error\"}");

  status_ = 200;
  answer_ = "<html>not json</html>";
  tools_->dispatch ({"fc_2", "lookup_order", "{}"});
  wait_outputs (2);
  EXPECT_TRUE (g_str_has_prefix (outputs_[1].second.c_str (),
      "{\"error\":\"the lookup_order service answered with invalid JSON")) << outputs_[1].second;

  tools_->dispatch ({"fc_3", "slow_tool", "{}"});
  wait_outputs (3);
  EXPECT_EQ (outputs_[2].second,
      "{\"error\":\"the slow_tool service did not answer within 200 ms\"}");
  EXPECT_EQ (field (event (CallEventType::ToolResult, 2), "result"), "error");

  tools_->dispatch ({"fc_4", "lookup_order", "{\"order\": "});
  wait_outputs (4);
  EXPECT_NE (outputs_[3].second.find ("not a JSON object"), std::string::npos);
  EXPECT_EQ (requests_.size (), 3u) << "bad arguments were sent to the webhook";
}

TEST_F (CallToolsTest, CallEndingWithAWebhookPendingDropsTheAnswer)
{
  tools_->dispatch ({"fc_1", "slow_tool", "{}"});
  const gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (paused_.empty () && g_get_monotonic_time () < deadline)
    g_main_context_iteration (nullptr, TRUE);
  tools_.reset ();
  const gint64 until = g_get_monotonic_time () + 400 * 1000;
  while (g_get_monotonic_time () < until) {
    while (g_main_context_iteration (nullptr, FALSE)) {
    }
    g_usleep (10 * 1000);
  }
  EXPECT_TRUE (outputs_.empty ());
}

TEST_F (CallToolsTest, EndCallHangsUpAfterTheGoodbyeResponse)
{
  auto message = [] (const char *name, const char *response_id) {
    return gst_structure_new (name, "response-id", G_TYPE_STRING, response_id, NULL);
  };
  tools_->dispatch ({"fc_1", "end_call", "{\"reason\":\"caller said bye\"}"});
  ASSERT_EQ (outputs_.size (), 1u);
  EXPECT_EQ (field (event (CallEventType::ToolResult), "result"), "ok");

  /* The response that carried the call ends: not the goodbye yet. */
  GstStructure *s = message ("realtime-response-done", "resp_call");
  tools_->handle_element_message (s);
  gst_structure_free (s);
  s = message ("realtime-response-started", "resp_bye");
  tools_->handle_element_message (s);
  gst_structure_free (s);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (nullptr, FALSE);
  EXPECT_EQ (ended_, "") << "hung up before the goodbye was done";

  /* A second end_call while ending is refused, not doubled. */
  tools_->dispatch ({"fc_2", "end_call", "{}"});
  ASSERT_EQ (outputs_.size (), 2u);
  EXPECT_EQ (outputs_[1].second, "{\"error\":\"the call is already ending\"}");

  s = message ("realtime-response-done", "resp_bye");
  tools_->handle_element_message (s);
  gst_structure_free (s);
  /* No graph: nothing queued; the quiet polls (20 ms each) end it. */
  const gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (ended_.empty () && g_get_monotonic_time () < deadline)
    g_main_context_iteration (nullptr, TRUE);
  EXPECT_EQ (ended_, "ended_by_ai: ended by the AI: caller said bye");
}
