/* Table tests of endpoint and authentication rules (OpenAI vs Azure GA). */
#include <glib.h>
#include <gtest/gtest.h>

#include "realtime_endpoint.h"

using namespace voxbridge::realtime;

TEST (RealtimeEndpoint, ResolveTable)
{
  const struct {
    const char *url;
    AuthType auth;
    const char *key;
    bool ok;
    const char *ws_url;
    bool azure;
    const char *header;
    const char *value;
    const char *error_part;
  } cases[] = {
    {"wss://api.openai.com/v1/realtime?model=gpt-realtime", AuthType::kAuto, "sk-1", true,
        "wss://api.openai.com/v1/realtime?model=gpt-realtime", false, "Authorization", "Bearer sk-1", ""},
    {"wss://myres.openai.azure.com/openai/v1/realtime?model=rt-deploy", AuthType::kAuto, "k2", true,
        "wss://myres.openai.azure.com/openai/v1/realtime?model=rt-deploy", true, "api-key", "k2", ""},
    {"wss://myres.cognitiveservices.azure.com/openai/v1/realtime?model=d", AuthType::kAuto, "k", true,
        "wss://myres.cognitiveservices.azure.com/openai/v1/realtime?model=d", true, "api-key", "k", ""},
    /* Entra ID: a bearer token on Azure. */
    {"wss://myres.openai.azure.com/openai/v1/realtime?model=d", AuthType::kBearer, "eyJ0", true,
        "wss://myres.openai.azure.com/openai/v1/realtime?model=d", true, "Authorization", "Bearer eyJ0", ""},
    /* A local server speaking the Azure path form. */
    {"ws://127.0.0.1:8765/openai/v1/realtime?model=d", AuthType::kAuto, "k", true,
        "ws://127.0.0.1:8765/openai/v1/realtime?model=d", true, "api-key", "k", ""},
    {"https://api.openai.com/v1/realtime?model=gpt-realtime", AuthType::kApiKey, "k", true,
        "wss://api.openai.com/v1/realtime?model=gpt-realtime", false, "api-key", "k", ""},
    {"ws://127.0.0.1:1/v1/realtime?model=m", AuthType::kAuto, "", true,
        "ws://127.0.0.1:1/v1/realtime?model=m", false, "", "", ""},
    {"wss://myres.openai.azure.com/openai/v1/realtime?api-version=2025-04-01-preview&model=d",
        AuthType::kAuto, "k", false, "", true, "", "", "api-version"},
    {"wss://api.openai.com/v1/realtime", AuthType::kAuto, "k", false, "", false, "", "", "model"},
    {"ftp://api.openai.com/v1/realtime?model=m", AuthType::kAuto, "k", false, "", false, "", "", "scheme"},
    {"not a url", AuthType::kAuto, "k", false, "", false, "", "", "url"},
    {"", AuthType::kAuto, "k", false, "", false, "", "", "no url"},
  };
  for (const auto & c : cases) {
    Endpoint ep;
    std::string error;
    bool ok = resolve_endpoint (c.url, c.auth, c.key, &ep, &error);
    ASSERT_EQ (ok, c.ok) << c.url << ": " << error;
    if (ok) {
      EXPECT_EQ (ep.url, c.ws_url);
      EXPECT_EQ (ep.azure, c.azure) << c.url;
      EXPECT_EQ (ep.auth_header, c.header) << c.url;
      EXPECT_EQ (ep.auth_value, c.value) << c.url;
    } else {
      EXPECT_NE (error.find (c.error_part), std::string::npos) << error;
      /* The key never appears in an error. */
      if (*c.key) {
        EXPECT_EQ (error.find (c.key), std::string::npos) << error;
      }
    }
  }
}

TEST (RealtimeEndpoint, KeyFromPropertyOrEnvironment)
{
  g_setenv ("VOXBRIDGE_TEST_KEY", "from-env", TRUE);
  g_unsetenv ("VOXBRIDGE_TEST_UNSET");
  std::string key, error;
  ASSERT_TRUE (resolve_api_key ("direct", "VOXBRIDGE_TEST_KEY", &key, &error));
  EXPECT_EQ (key, "direct");
  ASSERT_TRUE (resolve_api_key ("", "VOXBRIDGE_TEST_KEY", &key, &error));
  EXPECT_EQ (key, "from-env");
  ASSERT_TRUE (resolve_api_key ("", "", &key, &error));
  EXPECT_EQ (key, "");
  EXPECT_FALSE (resolve_api_key ("", "VOXBRIDGE_TEST_UNSET", &key, &error));
  EXPECT_NE (error.find ("VOXBRIDGE_TEST_UNSET"), std::string::npos);
}
