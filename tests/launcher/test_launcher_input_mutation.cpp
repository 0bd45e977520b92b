/* Bad input never crashes the launcher's parsers: deployment configs (also
 * through --check-config's check_deployment), pipeline templates and the
 * call variables rendered into them, the model's tool arguments (end_call,
 * send_dtmf, transfer_call, webhook tools), webhook answers and POST /calls
 * bodies. Each test mutates valid inputs with a fixed seed; the parser must
 * accept the mutant with a sane result or refuse it with a reason. */

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "call_json.h"
#include "call_transfer.h"
#include "config_check.h"
#include "deployment_config.h"
#include "dtmf_tool.h"
#include "input_mutation.h"
#include "pipeline_template.h"
#include "test_helpers.h"
#include "webhook_tool.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;
using voxbridge::test::describe_input;
using voxbridge::test::InputMutator;
using voxbridge::test::Mutant;

namespace {

std::string
read_source (const std::string & relative)
{
  gchar *contents = nullptr;
  gsize length = 0;
  EXPECT_TRUE (g_file_get_contents (source_path (relative).c_str (), &contents, &length,
      nullptr)) << relative;
  std::string text (contents ? contents : "", length);
  g_free (contents);
  return text;
}

void
replace_all (std::string & text, const std::string & from, const std::string & to)
{
  for (size_t at = text.find (from); at != std::string::npos; at = text.find (from, at + to.size ()))
    text.replace (at, from.size (), to);
}

bool
is_json (const std::string & text)
{
  JsonNode *node = json_from_string (text.c_str (), nullptr);
  if (node)
    json_node_unref (node);
  return node != nullptr && text.find ('\0') == std::string::npos
      && g_utf8_validate (text.data (), static_cast<gssize> (text.size ()), nullptr);
}

/* ------------------------------------------------------------------------ */

void
check_config (const std::string & text, const std::string & kind)
{
  SCOPED_TRACE (kind + ": " + describe_input (text));
  ConfigLoadResult result = parse_deployment_config (text, source_path ("examples/test.conf"));
  if (result.ok ())
    return;
  ASSERT_GT (result.error_count (), 0u);
  for (const ConfigDiagnostic & d : result.diagnostics)
    EXPECT_FALSE (d.to_string ().empty ());
}

TEST (DeploymentConfigMutation, MutatedConfigsLoadOrNameAnError)
{
  InputMutator mutator (0xc0f1u, 25);
  for (const char *example : {"examples/local-dev.conf", "examples/connect-evt-azure.conf"})
    for (const Mutant & m : mutator.mutate (read_source (example)))
      check_config (m.text, m.kind);
}

TEST (DeploymentConfigMutation, HostileValueForEveryKey)
{
  const std::string valid = read_source ("examples/local-dev.conf");
  std::vector<std::string> lines;
  for (size_t start = 0, end; start < valid.size (); start = end + 1) {
    end = valid.find ('\n', start);
    if (end == std::string::npos)
      end = valid.size ();
    lines.push_back (valid.substr (start, end - start));
  }
  for (size_t i = 0; i < lines.size (); i++) {
    const size_t eq = lines[i].find (" = ");
    if (eq == std::string::npos || lines[i][0] == '#')
      continue;
    for (const std::string & value : InputMutator::hostile_values ()) {
      std::string text;
      for (size_t j = 0; j < lines.size (); j++)
        text += (j == i ? lines[j].substr (0, eq + 3) + value : lines[j]) + "\n";
      check_config (text, lines[i].substr (0, eq) + " = hostile");
    }
  }
}

/* json-glib reads 1e309 as infinity and would write it back as "inf.0":
 * a tool schema holding one would break every session.update. */
TEST (DeploymentConfigMutation, ToolSchemaWithAnInfiniteNumberIsRefused)
{
  std::string text = read_source ("examples/connect-evt-azure.conf");
  const size_t at = text.find ("\"type\":\"object\"");
  ASSERT_NE (at, std::string::npos);
  text.insert (at, "\"maxLength\":1e309,");
  ConfigLoadResult result = parse_deployment_config (text, source_path ("examples/test.conf"));
  ASSERT_FALSE (result.ok ());
  bool named = false;
  for (const ConfigDiagnostic & d : result.diagnostics)
    named = named || d.to_string ().find ("too large for JSON") != std::string::npos;
  EXPECT_TRUE (named);
}

/* What --check-config does with a mutated file: the whole check (config,
 * environment, pipelines rendered and built) ends in errors or a pass. */
TEST (DeploymentConfigMutation, CheckConfigOfMutatedFiles)
{
  gst_init (nullptr, nullptr);
  std::string valid = read_source ("examples/local-dev.conf");
  replace_all (valid, "../pipelines/", source_path ("pipelines") + "/");
  replace_all (valid, "prompts/", source_path ("examples/prompts") + "/");
  gchar *dir = g_dir_make_tmp ("voxbridge-mutation-XXXXXX", nullptr);
  ASSERT_NE (dir, nullptr);
  const std::string path = std::string (dir) + "/mutant.conf";
  InputMutator mutator (0xc4ecu, 4);
  std::vector<Mutant> mutants = mutator.mutate (valid);
  /* Building pipelines is the slow part: a spread of 40 mutants. */
  const size_t step = std::max<size_t> (1, mutants.size () / 40);
  for (size_t i = 0; i < mutants.size (); i += step) {
    const Mutant & m = mutants[i];
    SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
    ASSERT_TRUE (g_file_set_contents (path.c_str (), m.text.data (),
        static_cast<gssize> (m.text.size ()), nullptr));
    DeploymentCheck check = check_deployment (path);
    for (const std::string & e : check.errors)
      EXPECT_FALSE (e.empty ());
  }
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

/* ------------------------------------------------------------------------ */

PipelineVariables
call_variables ()
{
  return {{"call.id", "0a1b2c3d4e5f"}, {"rtp.port", "20000"}, {"rtp.codec", "PCMU"},
      {"rtp.payload", "0"}, {"rtp.caps", "audio/x-mulaw"}, {"from.user", "+15550199"},
      {"to.user", "+15550100"}, {"uui", "hello"}, {"ai.url", "ws://127.0.0.1:8765/v1/realtime"},
      {"ai.model", "gpt-realtime"}, {"ai.instructions", "Be brief."}, {"ai.voice", "alloy"},
      {"ai.session", "s-0a1b"}, {"route.name", "assistant"}, {"prompt", "/tmp/p.wav"}};
}

TEST (PipelineTemplateMutation, MutatedTemplatesRenderOrNameTheProblem)
{
  InputMutator mutator (0x9199u, 80);
  const PipelineVariables vars = call_variables ();
  for (const char *file : {"pipelines/connect-evt-g711.pipeline", "pipelines/echo-test.pipeline",
           "tests/launcher/data/unknown-variable.pipeline"}) {
    for (const Mutant & m : mutator.mutate (read_source (file))) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      PipelineError error;
      auto rendered = render_pipeline (m.text, "t.pipeline", vars, error);
      if (!rendered) {
        EXPECT_FALSE (error.message.empty ());
        EXPECT_GT (error.line, 0);
      } else {
        const size_t size = rendered->description.size ();
        for (size_t at = 0; at <= size; at += size / 8 + 1)
          EXPECT_GT (rendered->template_line_at (at), 0);
      }
      pipeline_template_variables (m.text);
    }
  }
}

/* A caller controls From, To, User-to-User and X- headers: any value they
 * send either arrives in the property exactly as sent or is refused; it
 * never changes the pipeline. */
TEST (PipelineTemplateMutation, HostileCallVariablesNeverChangeThePipeline)
{
  gst_init (nullptr, nullptr);
  InputMutator mutator (0x7a1eu, 40);
  std::vector<std::string> values = InputMutator::hostile_values ();
  for (const Mutant & m : mutator.mutate ("\"Jane\" \\\\ ${x} ! fakesink name=evil"))
    values.push_back (m.text);
  for (const std::string & value : values) {
    SCOPED_TRACE (describe_input (value));
    PipelineVariables vars = {{"v", value}};
    PipelineError error;
    auto whole = render_pipeline ("filesrc name=src location=${v} ! fakesink", "t.pipeline",
        vars, error);
    if (!whole) {
      EXPECT_FALSE (error.message.empty ());
    } else {
      GError *err = nullptr;
      GstElement *pipeline = gst_parse_launch (whole->description.c_str (), &err);
      ASSERT_NE (pipeline, nullptr) << (err ? err->message : "") << "\n" << whole->description;
      EXPECT_EQ (err, nullptr) << err->message;
      g_clear_error (&err);
      GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
      ASSERT_NE (src, nullptr);
      gchar *location = nullptr;
      g_object_get (src, "location", &location, nullptr);
      EXPECT_EQ (std::string (location ? location : "(null)"), value);
      g_free (location);
      gst_object_unref (src);
      EXPECT_EQ (GST_BIN_NUMCHILDREN (GST_BIN (pipeline)), 2);
      gst_object_unref (pipeline);
    }
    PipelineError part_error;
    auto part = render_pipeline ("filesrc location=/rec/${v}.wav ! fakesink", "t.pipeline",
        vars, part_error);
    if (!part) {
      EXPECT_FALSE (part_error.message.empty ());
    }
  }
}

/* ------------------------------------------------------------------------ */

const char *const kToolArguments[] = {
  R"({"digits":"12#*A"})",
  R"({"reason":"the caller asked for a human","target":"sip:agent@pbx"})",
  R"({"order_id":"A-1001","items":[1,2.5,true,null,{"k":"v"}],"note":"caf\u00e9"})",
};

TEST (ToolArgumentsMutation, SendDtmfGivesDigitsOrAnError)
{
  InputMutator mutator (0xd1a1u);
  for (const char *valid : kToolArguments) {
    for (const Mutant & m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      std::string error;
      auto digits = dtmf_digits_argument (m.text, error);
      if (!digits) {
        EXPECT_FALSE (error.empty ());
        EXPECT_TRUE (g_utf8_validate (error.data (), static_cast<gssize> (error.size ()),
            nullptr)) << describe_input (error);
        continue;
      }
      EXPECT_FALSE (digits->empty ());
      EXPECT_LE (digits->size (), 64u);
      EXPECT_EQ (digits->find_first_not_of ("0123456789*#ABCD"), std::string::npos);
    }
  }
}

TEST (ToolArgumentsMutation, TransferReasonIsTextOrEmpty)
{
  InputMutator mutator (0x7e4fu);
  for (const char *valid : kToolArguments) {
    for (const Mutant & m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      const std::string reason = transfer_reason (m.text);
      EXPECT_TRUE (g_utf8_validate (reason.data (), static_cast<gssize> (reason.size ()),
          nullptr));
    }
  }
}

TEST (ToolArgumentsMutation, WebhookRequestBodyIsJsonOrAnError)
{
  InputMutator mutator (0x3eb0u);
  PipelineVariables vars = call_variables ();
  vars["header.x-bad"] = "\xff\xfe not UTF-8";
  vars["uui"] = std::string ("a\0b", 3);
  for (const char *valid : kToolArguments) {
    for (const Mutant & m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      ToolCall call {"call_1", "lookup_order", m.text};
      std::string error;
      auto body = webhook_request_body ("0a1b2c3d4e5f", call, vars, error);
      if (body) {
        EXPECT_TRUE (is_json (*body)) << describe_input (*body);
      } else {
        EXPECT_FALSE (error.empty ());
      }
    }
  }
}

/* Whatever a webhook answers, the model gets one valid JSON text. */
TEST (WebhookAnswerMutation, FunctionOutputIsAlwaysJson)
{
  InputMutator mutator (0x3eb1u);
  ToolSettings tool;
  tool.name = "lookup_order";
  for (const char *valid : {R"({"status":"shipped","eta":"2026-12-07","items":[{"sku":"A","qty":2}]})",
           R"(["a",1,null])", "\"plain string\"", "42"}) {
    for (const Mutant & m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      WebhookResult result;
      result.status = 200;
      result.reason = "OK";
      result.body = m.text;
      const std::string output = webhook_function_output (tool, result);
      EXPECT_TRUE (is_json (output)) << describe_input (output);
    }
  }
  /* Regression: these came back as "inf.0", which is not JSON. */
  for (const char *body : {"1e309", "[-1e309]", "{\"qty\":1e999}"}) {
    WebhookResult result;
    result.status = 200;
    result.body = body;
    const std::string output = webhook_function_output (tool, result);
    EXPECT_NE (output.find ("too large for JSON"), std::string::npos) << output;
  }
  for (const std::string & reason : InputMutator::hostile_values ()) {
    WebhookResult result;
    result.status = 502;
    result.reason = reason;
    EXPECT_TRUE (is_json (webhook_function_output (tool, result))) << describe_input (reason);
    result.status = 0;
    result.error = reason.empty () ? "x" : reason;
    EXPECT_TRUE (is_json (webhook_function_output (tool, result))) << describe_input (reason);
  }
}

/* ------------------------------------------------------------------------ */

TEST (DialRequestMutation, PostCallsBodyParsesOrNamesTheProblem)
{
  InputMutator mutator (0xd1a1u);
  for (const char *valid : {R"({"to":"sip:+15550100@127.0.0.1:5090","from":"+15550199","route":"assistant","variables":{"order":"A-1","lang":"en"}})",
           R"({"to":"+15550100"})"}) {
    for (const Mutant & m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      DialRequest request;
      std::string error;
      if (parse_dial_request (m.text, request, error)) {
        EXPECT_FALSE (request.to.empty ());
        for (const std::string *s : {&request.to, &request.from, &request.route})
          EXPECT_TRUE (g_utf8_validate (s->data (), static_cast<gssize> (s->size ()), nullptr));
      } else {
        /* The error goes back as the JSON body of the 400. */
        EXPECT_FALSE (error.empty ());
        EXPECT_TRUE (g_utf8_validate (error.data (), static_cast<gssize> (error.size ()),
            nullptr)) << describe_input (error);
      }
    }
  }
}

}  // namespace
