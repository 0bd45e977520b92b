/* Route selection and call variables. */

#include <gtest/gtest.h>

#include "call_variables.h"
#include "route_selector.h"
#include "test_helpers.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;

namespace {

DeploymentConfig
routes_config ()
{
  const std::string text =
      "[sip]\nlisten = udp://0.0.0.0:5060\nmedia-address = 192.0.2.1\n"
      "[ai]\nurl = wss://api.openai.com/v1/realtime\nmodel = gpt-realtime\n"
      "key-env = OPENAI_API_KEY\n"
      "[route vc-sales]\npriority = 10\n"
      "match-header.X-Voice-Connector-ID = abc*\n"
      "pipeline = ../pipelines/chime-vc-trunk.pipeline\n"
      "[route uui]\npriority = 10\n"
      "match-user = +1555*\nmatch-header.User-to-User = *\n"
      "pipeline = ../pipelines/connect-evt-g711.pipeline\n"
      "instructions = Be brief.\nvoice = alloy\ngreeting = Hi\nvar.queue = billing\n"
      "[route numbers]\nmatch-user-regex = ^\\+1555\\d{4}$\n"
      "pipeline = ../pipelines/connect-evt-pcm24k.pipeline\n"
      "[route echo]\npriority = -1\n"
      "pipeline = ../pipelines/echo-test.pipeline\n";
  ConfigLoadResult result = parse_deployment_config (text, source_path ("examples/t.conf"));
  EXPECT_TRUE (result.ok ());
  for (const auto & d : result.diagnostics)
    ADD_FAILURE () << d.to_string ();
  return *result.config;
}

struct RoutingCase {
  std::string request_user;
  std::vector<std::pair<std::string, std::string>> headers;
  const char *expected_route;
};

class Routing : public ::testing::TestWithParam<RoutingCase> {};

}  // namespace

TEST_P (Routing, FirstMatchingRouteWins)
{
  static const DeploymentConfig config = routes_config ();
  CallFacts call;
  call.request_user = GetParam ().request_user;
  call.headers = GetParam ().headers;
  const Route *route = select_route (config.routes, call);
  ASSERT_NE (route, nullptr);
  EXPECT_EQ (route->name, GetParam ().expected_route);
}

INSTANTIATE_TEST_SUITE_P (Table, Routing, ::testing::Values (
    RoutingCase {"+15550100", {{"x-voice-connector-id", "abcdef"}}, "vc-sales"},
    RoutingCase {"+15550100", {{"X-VOICE-CONNECTOR-ID", "zzz"}}, "numbers"},
    RoutingCase {"+15550100", {{"User-to-User", "00aa;encoding=hex"}}, "uui"},
    RoutingCase {"+15550100", {{"user-to-user", ""}}, "uui"},
    RoutingCase {"+15550100", {{"Via", "x"}, {"X-Voice-Connector-ID", "nope"},
        {"X-Voice-Connector-ID", "abc1"}}, "vc-sales"},
    RoutingCase {"+15550100", {}, "numbers"},
    RoutingCase {"+155501000", {}, "echo"},
    RoutingCase {"alice", {{"User-to-User", "1"}}, "echo"}));

TEST (Routing, NoRouteWhenNothingMatches)
{
  DeploymentConfig config = routes_config ();
  config.routes.pop_back ();   /* the catch-all */
  CallFacts call;
  call.request_user = "alice";
  EXPECT_EQ (select_route (config.routes, call), nullptr);
}

TEST (CallVariables, HoldCallRouteAndAiValues)
{
  const DeploymentConfig config = routes_config ();
  CallFacts call = example_call_facts ();
  call.codec = "PCMA";
  const Route *route = select_route (config.routes, call);
  ASSERT_NE (route, nullptr);
  ASSERT_EQ (route->name, "vc-sales");
  const Route & uui_route = config.routes[1];
  ASSERT_EQ (uui_route.name, "uui");

  PipelineVariables vars = make_call_variables (config, uui_route, call);
  EXPECT_EQ (vars.at ("call.id"), "example-call-0001");
  EXPECT_EQ (vars.at ("rtp.port"), "20000");
  EXPECT_EQ (vars.at ("codec"), "PCMA");
  EXPECT_EQ (vars.at ("codec.caps"), "audio/x-alaw");
  EXPECT_EQ (vars.at ("codec.decoder"), "alawdec");
  EXPECT_EQ (vars.at ("codec.encoder"), "alawenc");
  EXPECT_EQ (vars.at ("uui"), "00a1b2c3d4;encoding=hex");
  EXPECT_EQ (vars.at ("header.x-voice-connector-id"), "abcdef0123456789");
  EXPECT_EQ (vars.at ("from.user"), "+15550123");
  EXPECT_EQ (vars.at ("ai.url"), "wss://api.openai.com/v1/realtime?model=gpt-realtime");
  EXPECT_EQ (vars.at ("ai.auth"), "bearer");
  EXPECT_EQ (vars.at ("ai.key-env"), "OPENAI_API_KEY");
  EXPECT_EQ (vars.at ("instructions"), "Be brief.");
  EXPECT_EQ (vars.at ("voice"), "alloy");
  EXPECT_EQ (vars.at ("greeting"), "Hi");
  EXPECT_EQ (vars.at ("var.queue"), "billing");
  EXPECT_EQ (vars.at ("route.name"), "uui");

  call.headers.clear ();
  call.codec = "PCMU";
  vars = make_call_variables (config, uui_route, call);
  EXPECT_EQ (vars.at ("uui"), "");
  EXPECT_EQ (vars.count ("header.x-voice-connector-id"), 0u);
  EXPECT_EQ (vars.at ("codec.caps"), "audio/x-mulaw");
}
