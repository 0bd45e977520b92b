#pragma once
/* Where a Realtime session connects and how it authenticates: OpenAI
 * (Authorization: Bearer) or Azure OpenAI GA (/openai/v1/realtime, api-key
 * header or an Entra ID bearer token). Pure functions, table-tested. */

#include <string>

namespace voxbridge::realtime {

enum class AuthType { kAuto, kBearer, kApiKey };

struct Endpoint {
  std::string url;            /* ws:// or wss:// */
  bool azure = false;
  std::string auth_header;    /* "Authorization" or "api-key"; empty: none */
  std::string auth_value;     /* secret: never log it */
};

/* Picks the key: the @api_key property if set, else the environment variable
 * named by @api_key_env. Returns false with @error when @api_key_env names an
 * unset variable. An empty key is allowed (a local server may not check). */
bool resolve_api_key (const std::string & api_key, const std::string & api_key_env,
    std::string * key, std::string * error);

/* Validates @url and builds the endpoint. http(s) URLs are taken as ws(s).
 * Rejects what the services would reject with a confusing 401 later, e.g. an
 * Azure GA URL with api-version. */
bool resolve_endpoint (const std::string & url, AuthType auth, const std::string & key,
    Endpoint * endpoint, std::string * error);

}  // namespace voxbridge::realtime
