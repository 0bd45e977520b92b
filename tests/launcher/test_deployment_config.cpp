/* Deployment config parsing and validation: table tests of accepted and
 * rejected configs, and the shipped examples. */

#include <gtest/gtest.h>

#include "deployment_config.h"
#include "test_helpers.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;

namespace {

/* Configs are parsed as if they were in examples/, so that
 * ../pipelines/... resolves to the shipped pipeline files. */
std::string
config_name ()
{
  return source_path ("examples/test.conf");
}

const char *const VALID_HEAD =
    "[sip]\n"
    "listen = udp://0.0.0.0:5060, tcp://[::1]:5070, tls://sip.example.com\n"
    "media-address = 192.0.2.10\n"
    "rtp-ports = 20000-20999\n"
    "max-calls = 50\n"
    "[ai]\n"
    "url = wss://contoso.openai.azure.com/openai/v1/realtime\n"
    "model = my-deployment\n"
    "key-env = AZURE_OPENAI_API_KEY\n";

const char *const ECHO_ROUTE =
    "[route echo]\n"
    "pipeline = ../pipelines/echo-test.pipeline\n";

std::string
errors_of (const ConfigLoadResult & result)
{
  std::string out;
  for (const auto & d : result.diagnostics)
    out += d.to_string () + "\n";
  return out;
}

const ConfigDiagnostic *
find_diagnostic (const ConfigLoadResult & result, ConfigDiagnostic::Severity severity,
    const std::string & needle)
{
  for (const auto & d : result.diagnostics) {
    if (d.severity == severity && d.to_string ().find (needle) != std::string::npos)
      return &d;
  }
  return nullptr;
}

}  // namespace

TEST (DeploymentConfig, ParsesEverySection)
{
  const std::string text = std::string (VALID_HEAD) +
      "auth = api-key\n"
      "[http]\n"
      "listen = 127.0.0.1:8081\n"
      "token-env = VOXBRIDGE_HTTP_TOKEN\n"
      "[log]\n"
      "format = json\n"
      "events-file = events.jsonl\n"
      "[route connect]\n"
      "priority = 5\n"
      "match-user = +1555*\n"
      "match-header.User-to-User = *\n"
      "match-header-regex.X-Voice-Connector-ID = ^abc[0-9]+$\n"
      "pipeline = ../pipelines/connect-evt-g711.pipeline\n"
      "fallback-pipeline = ../pipelines/fallback-prompt.pipeline\n"
      "prompt = prompts/unavailable.wav\n"
      "instructions = Line one\\nline two\n"
      "voice = alloy\n"
      "greeting = Hello\n"
      "var.department = billing\n"
      + ECHO_ROUTE;
  ConfigLoadResult result = parse_deployment_config (text, config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  EXPECT_TRUE (result.diagnostics.empty ()) << errors_of (result);
  const DeploymentConfig & c = *result.config;

  ASSERT_EQ (c.sip.listen.size (), 3u);
  EXPECT_EQ (c.sip.listen[0].sofia_url (), "sip:0.0.0.0:5060;transport=udp");
  EXPECT_EQ (c.sip.listen[1].sofia_url (), "sip:[::1]:5070;transport=tcp");
  EXPECT_EQ (c.sip.listen[2].sofia_url (), "sip:sip.example.com:5061;transport=tls");
  EXPECT_EQ (c.sip.media_address, "192.0.2.10");
  EXPECT_EQ (c.sip.rtp_port_min, 20000);
  EXPECT_EQ (c.sip.rtp_port_max, 20999);
  EXPECT_EQ (c.sip.max_calls, 50u);

  EXPECT_EQ (c.ai.effective_url (),
      "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-deployment");
  EXPECT_EQ (c.ai.auth, AiAuth::ApiKey);
  EXPECT_EQ (c.ai.key_env, "AZURE_OPENAI_API_KEY");

  EXPECT_EQ (c.http.host, "127.0.0.1");
  EXPECT_EQ (c.http.port, 8081);
  EXPECT_EQ (c.http.token_env, "VOXBRIDGE_HTTP_TOKEN");
  EXPECT_EQ (c.log.format, EventLogFormat::Json);
  EXPECT_EQ (c.log.events_file, source_path ("examples/events.jsonl"));

  ASSERT_EQ (c.routes.size (), 2u);
  const Route & r = c.routes[0];   /* priority 5 sorts before echo (0) */
  EXPECT_EQ (r.name, "connect");
  EXPECT_EQ (r.priority, 5);
  ASSERT_EQ (r.rules.size (), 3u);
  EXPECT_EQ (r.pipeline_file, source_path ("pipelines/connect-evt-g711.pipeline"));
  EXPECT_EQ (r.prompt, source_path ("examples/prompts/unavailable.wav"));
  EXPECT_EQ (r.instructions, "Line one\nline two");
  EXPECT_EQ (r.voice, "alloy");
  EXPECT_EQ (r.greeting, "Hello");
  EXPECT_EQ (r.vars.at ("department"), "billing");
  EXPECT_EQ (c.routes[1].name, "echo");
}

TEST (DeploymentConfig, RegexPatternsKeepTheirBackslashes)
{
  const std::string text = std::string (VALID_HEAD) +
      "[route r]\nmatch-user-regex = ^\\+1555\\d{7}$\n"
      "pipeline = ../pipelines/echo-test.pipeline\n";
  ConfigLoadResult result = parse_deployment_config (text, config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  const MatchRule & rule = result.config->routes[0].rules[0];
  EXPECT_EQ (rule.pattern (), "^\\+1555\\d{7}$");
  EXPECT_TRUE (rule.matches ("+15550001234"));
  EXPECT_FALSE (rule.matches ("+1555000123"));
}

TEST (DeploymentConfig, EqualPrioritiesKeepFileOrder)
{
  const std::string text = std::string (VALID_HEAD) +
      "[route b]\nmatch-user = b\npipeline = ../pipelines/echo-test.pipeline\n"
      "[route a]\nmatch-user = a\npipeline = ../pipelines/echo-test.pipeline\n"
      "[route c]\npriority = 1\nmatch-user = c\npipeline = ../pipelines/echo-test.pipeline\n";
  ConfigLoadResult result = parse_deployment_config (text, config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  ASSERT_EQ (result.config->routes.size (), 3u);
  EXPECT_EQ (result.config->routes[0].name, "c");
  EXPECT_EQ (result.config->routes[1].name, "b");
  EXPECT_EQ (result.config->routes[2].name, "a");
}

struct RejectedConfig {
  const char *what;
  std::string text;
  int line;                 /* expected line of the error, 0: not checked */
  const char *section;
  const char *key;
  const char *message;      /* substring of the message */
};

class RejectedConfigs : public ::testing::TestWithParam<RejectedConfig> {};

TEST_P (RejectedConfigs, ReportFileLineSectionKey)
{
  const RejectedConfig & c = GetParam ();
  ConfigLoadResult result = parse_deployment_config (c.text, config_name ());
  EXPECT_FALSE (result.ok ()) << c.what;
  const ConfigDiagnostic *d = find_diagnostic (result, ConfigDiagnostic::Severity::Error,
      c.message);
  ASSERT_NE (d, nullptr) << c.what << ": no error containing '" << c.message
      << "' in:\n" << errors_of (result);
  EXPECT_EQ (d->file, config_name ());
  EXPECT_EQ (d->section, c.section) << d->to_string ();
  EXPECT_EQ (d->key, c.key) << d->to_string ();
  if (c.line) {
    EXPECT_EQ (d->line, c.line) << d->to_string ();
  }
}

const std::string HEAD = VALID_HEAD;   /* 9 lines */
const std::string ROUTE = ECHO_ROUTE;  /* 2 lines */

INSTANTIATE_TEST_SUITE_P (Table, RejectedConfigs, ::testing::Values (
    RejectedConfig {"garbage line", HEAD + "this is not ini\n" + ROUTE, 10, "ai", "",
        "expected 'key = value'"},
    RejectedConfig {"unclosed section", HEAD + "[route x\n" + ROUTE, 10, "", "",
        "missing its closing ']'"},
    RejectedConfig {"key before any section", "a = b\n" + HEAD + ROUTE, 1, "", "",
        "outside of any [section]"},
    RejectedConfig {"duplicate key", HEAD + "model = other\n" + ROUTE, 10, "ai", "model",
        "first on line 8"},
    RejectedConfig {"duplicate section", HEAD + ROUTE + ROUTE, 12, "route echo", "",
        "appears a second time"},
    RejectedConfig {"unknown section", HEAD + "[sipp]\nx = 1\n" + ROUTE, 10, "sipp", "",
        "unknown section"},
    RejectedConfig {"unknown key (typo)", HEAD + ROUTE + "instrutions = hi\n", 12,
        "route echo", "instrutions", "unknown key"},
    RejectedConfig {"missing [sip]", "[ai]\nurl = ws://127.0.0.1:8765/v1/realtime\n" + ROUTE,
        0, "sip", "", "section [sip] is missing"},
    RejectedConfig {"no route", HEAD, 0, "", "", "no [route NAME] section"},
    RejectedConfig {"bad transport",
        "[sip]\nlisten = sctp://0.0.0.0:5060\nmedia-address = 192.0.2.1\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 2, "sip", "listen",
        "transport must be udp, tcp or tls"},
    RejectedConfig {"listen without host",
        "[sip]\nlisten = 0.0.0.0:5060\nmedia-address = 192.0.2.1\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 2, "sip", "listen",
        "is not transport://host:port"},
    RejectedConfig {"media address is a name",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = sip.example.com\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 3, "sip", "media-address",
        "is not an IP address"},
    RejectedConfig {"media address is any",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 0.0.0.0\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 3, "sip", "media-address",
        "any-address"},
    RejectedConfig {"rtp range reversed",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\nrtp-ports = 30000-20000\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 4, "sip", "rtp-ports",
        "at least one RTP/RTCP port pair"},
    RejectedConfig {"rtp range odd",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\nrtp-ports = 20001-20999\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 4, "sip", "rtp-ports",
        "even port"},
    RejectedConfig {"max-calls not a number",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\nmax-calls = many\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 4, "sip", "max-calls",
        "'many' is not a whole number"},
    RejectedConfig {"max-calls zero",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\nmax-calls = 0\n"
        "[ai]\nurl = ws://127.0.0.1:1/v1/realtime\n" + ROUTE, 4, "sip", "max-calls",
        "not a whole number between 1 and 100000"},
    RejectedConfig {"ai url not websocket",
        "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\n"
        "[ai]\nurl = https://api.openai.com/v1/realtime\n" + ROUTE, 5, "ai", "url",
        "must start with ws:// or wss://"},
    RejectedConfig {"bad auth", HEAD + "auth = basic\n" + ROUTE, 10, "ai", "auth",
        "not one of auto, bearer, api-key"},
    RejectedConfig {"key in key-env", HEAD.substr (0, HEAD.find ("key-env"))
        + "key-env = sk-abc123\n" + ROUTE, 9, "ai", "key-env",
        "not an environment variable name"},
    RejectedConfig {"key and key-env", HEAD + "key = sk-abc\n" + ROUTE, 10, "ai", "key",
        "either key or key-env"},
    RejectedConfig {"missing ca-file", HEAD + "ca-file = /nonexistent/ca.pem\n" + ROUTE, 10,
        "ai", "ca-file", "no such file"},
    RejectedConfig {"public http without token", HEAD + "[http]\nlisten = 0.0.0.0:8080\n"
        + ROUTE, 0, "http", "token-env", "needs a bearer token"},
    RejectedConfig {"http listen without port", HEAD + "[http]\nlisten = 127.0.0.1\n"
        + ROUTE, 11, "http", "listen", "has no port"},
    RejectedConfig {"bad log format", HEAD + "[log]\nformat = xml\n" + ROUTE, 11, "log",
        "format", "not one of text, json"},
    RejectedConfig {"route without pipeline", HEAD + "[route r]\nmatch-user = 1*\n", 10,
        "route r", "pipeline", "missing"},
    RejectedConfig {"route pipeline missing", HEAD + "[route r]\npipeline = nope.pipeline\n",
        11, "route r", "pipeline", "no such file"},
    RejectedConfig {"bad route name", HEAD + "[route a b]\npipeline = ../pipelines/echo-test.pipeline\n",
        10, "route a b", "", "route name 'a b'"},
    RejectedConfig {"bad regex", HEAD + ROUTE + "match-user-regex = ^(+1\n", 12, "route echo",
        "match-user-regex", "invalid regular expression"},
    RejectedConfig {"glob and regex", HEAD + ROUTE + "match-user = 1*\nmatch-user-regex = ^1\n",
        13, "route echo", "match-user-regex", "either match-user or match-user-regex"},
    RejectedConfig {"empty header pattern", HEAD + ROUTE + "match-header.X-Foo =\n", 12,
        "route echo", "match-header.X-Foo", "empty pattern"},
    RejectedConfig {"bad priority", HEAD + ROUTE + "priority = high\n", 12, "route echo",
        "priority", "not a whole number"},
    RejectedConfig {"invalid escape", HEAD + ROUTE + "instructions = a\\qb\n", 12,
        "route echo", "instructions", "cannot be interpreted"}));

TEST (DeploymentConfig, WarnsAboutInlineSecretsAndGaUrlsWithApiVersion)
{
  const std::string text =
      "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\n"
      "[ai]\nurl = wss://x.openai.azure.com/openai/v1/realtime?api-version=2024-10-01\n"
      "key = abc\n"
      "[http]\ntoken = secret\n" + std::string (ECHO_ROUTE);
  ConfigLoadResult result = parse_deployment_config (text, config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  const auto W = ConfigDiagnostic::Severity::Warning;
  const ConfigDiagnostic *key = find_diagnostic (result, W, "API key is written");
  ASSERT_NE (key, nullptr) << errors_of (result);
  EXPECT_EQ (key->line, 6);
  EXPECT_NE (find_diagnostic (result, W, "bearer token is written"), nullptr);
  EXPECT_NE (find_diagnostic (result, W, "api-version"), nullptr);
}

TEST (DeploymentConfig, WarnsAboutRoutesBehindACatchAll)
{
  const std::string text = std::string (VALID_HEAD) +
      "[route all]\npriority = 9\npipeline = ../pipelines/echo-test.pipeline\n"
      "[route never]\nmatch-user = 1*\npipeline = ../pipelines/echo-test.pipeline\n";
  ConfigLoadResult result = parse_deployment_config (text, config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  const ConfigDiagnostic *d = find_diagnostic (result, ConfigDiagnostic::Severity::Warning,
      "never used: never");
  ASSERT_NE (d, nullptr) << errors_of (result);
  EXPECT_EQ (d->section, "route all");
  EXPECT_EQ (d->line, 10);
}

TEST (DeploymentConfig, DiagnosticText)
{
  ConfigDiagnostic d {ConfigDiagnostic::Severity::Error, "a.conf", 7, "route x", "voice",
    "bad"};
  EXPECT_EQ (d.to_string (), "a.conf:7: error: [route x] voice: bad");
  d.line = 0;
  d.key = "";
  d.severity = ConfigDiagnostic::Severity::Warning;
  EXPECT_EQ (d.to_string (), "a.conf: warning: [route x] bad");
}

struct AiEndpointCase {
  std::string url;
  std::string model;
  AiAuth auth;
  std::string expected_url;
  AiAuth expected_auth;
};

class AiEndpoints : public ::testing::TestWithParam<AiEndpointCase> {};

TEST_P (AiEndpoints, EffectiveUrlAndAuth)
{
  AiSettings ai;
  ai.url = GetParam ().url;
  ai.model = GetParam ().model;
  ai.auth = GetParam ().auth;
  EXPECT_EQ (ai.effective_url (), GetParam ().expected_url);
  EXPECT_EQ (ai.effective_auth (), GetParam ().expected_auth);
}

INSTANTIATE_TEST_SUITE_P (Table, AiEndpoints, ::testing::Values (
    AiEndpointCase {"wss://api.openai.com/v1/realtime", "gpt-realtime", AiAuth::Auto,
        "wss://api.openai.com/v1/realtime?model=gpt-realtime", AiAuth::Bearer},
    AiEndpointCase {"wss://r.openai.azure.com/openai/v1/realtime", "dep 1", AiAuth::Auto,
        "wss://r.openai.azure.com/openai/v1/realtime?model=dep%201", AiAuth::ApiKey},
    AiEndpointCase {"wss://r.cognitiveservices.azure.com/openai/v1/realtime?model=a", "b",
        AiAuth::Auto, "wss://r.cognitiveservices.azure.com/openai/v1/realtime?model=a",
        AiAuth::ApiKey},
    AiEndpointCase {"wss://r.openai.azure.com/openai/v1/realtime?x=1", "d", AiAuth::Bearer,
        "wss://r.openai.azure.com/openai/v1/realtime?x=1&model=d", AiAuth::Bearer},
    AiEndpointCase {"ws://127.0.0.1:8765/v1/realtime", "", AiAuth::Auto,
        "ws://127.0.0.1:8765/v1/realtime", AiAuth::Bearer}));

class ShippedExamples : public ::testing::TestWithParam<const char *> {};

TEST_P (ShippedExamples, LoadWithoutErrors)
{
  ConfigLoadResult result = load_deployment_config (source_path (
          std::string ("examples/") + GetParam ()));
  EXPECT_TRUE (result.ok ()) << errors_of (result);
  for (const auto & d : result.diagnostics) {
    /* Examples name the directories of a deployment, not of this machine. */
    if (d.severity == ConfigDiagnostic::Severity::Warning && d.key == "recording-dir")
      continue;
    ADD_FAILURE () << "unexpected diagnostic: " << d.to_string ();
  }
}

INSTANTIATE_TEST_SUITE_P (Examples, ShippedExamples, ::testing::Values (
    "local-dev.conf", "connect-evt-azure.conf", "chime-voice-connector.conf"));

TEST (DeploymentConfig, MissingFileIsAnError)
{
  ConfigLoadResult result = load_deployment_config ("/nonexistent/voxbridge.conf");
  EXPECT_FALSE (result.ok ());
  ASSERT_EQ (result.error_count (), 1u);
  EXPECT_EQ (result.diagnostics[0].file, "/nonexistent/voxbridge.conf");
}

TEST (DeploymentConfig, RouteRecordingTranscriptAndSummary)
{
  auto result = parse_deployment_config (std::string (VALID_HEAD) +
      "[route rec]\n"
      "pipeline = ../pipelines/echo-test.pipeline\n"
      "recording = ogg\n"
      "recording-dir = /var/spool/voxbridge\n"
      "transcript = true\n"
      "summary = yes\n"
      "summary-webhook = https://crm.example.com/calls\n"
      "summary-timeout = 20\n"
      "[route plain]\n"
      "pipeline = ../pipelines/echo-test.pipeline\n", config_name ());
  ASSERT_TRUE (result.ok ()) << errors_of (result);
  const Route & rec = result.config->routes[0];
  EXPECT_EQ (rec.record.recording, RecordingFormat::Ogg);
  EXPECT_EQ (rec.record.dir, "/var/spool/voxbridge");
  EXPECT_TRUE (rec.record.transcript);
  EXPECT_TRUE (rec.record.summary);
  EXPECT_EQ (rec.record.summary_webhook, "https://crm.example.com/calls");
  EXPECT_EQ (rec.record.summary_timeout_s, 20u);
  EXPECT_TRUE (rec.record.any ());
  const Route & plain = result.config->routes[1];
  EXPECT_EQ (plain.record.recording, RecordingFormat::Off);
  EXPECT_FALSE (plain.record.transcript);
  EXPECT_FALSE (plain.record.summary);
  EXPECT_FALSE (plain.record.any ());
  EXPECT_STREQ (recording_format_name (RecordingFormat::Wav), "wav");
}

TEST (DeploymentConfig, RouteRecordingKeysAreChecked)
{
  struct Case {
    const char *keys;
    const char *error;     /* expected in the diagnostics */
  };
  const Case cases[] = {
    {"recording = mp3\nrecording-dir = /tmp\n", "'mp3' is not off, wav or ogg"},
    {"recording = wav\n", "recording-dir: missing"},
    {"transcript = true\n", "recording-dir: missing"},
    {"transcript = maybe\nrecording-dir = /tmp\n", "'maybe' is not true or false"},
    {"summary = true\nsummary-webhook = ftp://x\n", "is not an http:// or https:// URL"},
    {"summary = true\nsummary-timeout = 0\n", "summary-timeout"},
    {"recordings = wav\n", "recordings"},
  };
  for (const auto & c : cases) {
    auto result = parse_deployment_config (std::string (VALID_HEAD) +
        "[route r]\npipeline = ../pipelines/echo-test.pipeline\n" + c.keys, config_name ());
    EXPECT_FALSE (result.ok ()) << c.keys;
    EXPECT_NE (find_diagnostic (result, ConfigDiagnostic::Severity::Error, c.error), nullptr)
        << c.keys << " gave:\n" << errors_of (result);
  }
  /* A webhook without summary = true is only a warning; a missing
   * directory is created at the first call. */
  auto result = parse_deployment_config (std::string (VALID_HEAD) +
      "[route r]\npipeline = ../pipelines/echo-test.pipeline\n"
      "summary-webhook = http://127.0.0.1:9/x\nrecording = wav\n"
      "recording-dir = /nonexistent/voxbridge-recordings\n", config_name ());
  EXPECT_TRUE (result.ok ()) << errors_of (result);
  EXPECT_NE (find_diagnostic (result, ConfigDiagnostic::Severity::Warning,
      "unused: summary is not true"), nullptr);
  EXPECT_NE (find_diagnostic (result, ConfigDiagnostic::Severity::Warning,
      "created at the first call"), nullptr);
}
