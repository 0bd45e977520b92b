/* Realtime endpoint and authentication rules. */
#include "realtime_endpoint.h"

#include <glib.h>

#include <cstdlib>

namespace voxbridge::realtime {

namespace {

bool
ends_with (const std::string & s, const char *suffix)
{
  size_t n = strlen (suffix);
  return s.size () >= n && s.compare (s.size () - n, n, suffix) == 0;
}

bool
query_has_param (const char *query, const char *name)
{
  if (!query)
    return false;
  GHashTable *params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
  bool found = params && g_hash_table_contains (params, name);
  if (params)
    g_hash_table_unref (params);
  return found;
}

}  // namespace

bool
resolve_api_key (const std::string & api_key, const std::string & api_key_env,
    std::string * key, std::string * error)
{
  if (!api_key.empty ()) {
    *key = api_key;
    return true;
  }
  if (api_key_env.empty ()) {
    key->clear ();
    return true;
  }
  const char *value = g_getenv (api_key_env.c_str ());
  if (!value || !*value) {
    *error = "environment variable " + api_key_env + " (api-key-env) is not set";
    return false;
  }
  *key = value;
  return true;
}

bool
resolve_endpoint (const std::string & url, AuthType auth, const std::string & key,
    Endpoint * endpoint, std::string * error)
{
  if (url.empty ()) {
    *error = "no url set";
    return false;
  }
  GError *err = nullptr;
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED_QUERY, &err);
  if (!uri) {
    *error = std::string ("invalid url: ") + err->message;
    g_error_free (err);
    return false;
  }
  std::string scheme = g_uri_get_scheme (uri);
  std::string host = g_uri_get_host (uri) ? g_uri_get_host (uri) : "";
  std::string path = g_uri_get_path (uri);
  const char *query = g_uri_get_query (uri);
  bool has_api_version = query_has_param (query, "api-version");
  bool has_model = query_has_param (query, "model") || query_has_param (query, "deployment");
  g_uri_unref (uri);

  std::string ws_scheme;
  if (scheme == "ws" || scheme == "http")
    ws_scheme = "ws";
  else if (scheme == "wss" || scheme == "https")
    ws_scheme = "wss";
  else {
    *error = "url scheme must be wss:// or ws://, not " + scheme + "://";
    return false;
  }
  if (host.empty ()) {
    *error = "url has no host";
    return false;
  }

  endpoint->azure = ends_with (host, ".openai.azure.com")
      || ends_with (host, ".cognitiveservices.azure.com")
      || path.rfind ("/openai/", 0) == 0;
  if (endpoint->azure && path == "/openai/v1/realtime" && has_api_version) {
    *error = "Azure's GA endpoint /openai/v1/realtime answers 401 to api-version; "
        "remove api-version from the url";
    return false;
  }
  if (!has_model) {
    *error = endpoint->azure
        ? "url has no model=<deployment> query parameter"
        : "url has no model= query parameter";
    return false;
  }
  endpoint->url = ws_scheme + url.substr (scheme.size ());

  if (auth == AuthType::kAuto)
    auth = endpoint->azure ? AuthType::kApiKey : AuthType::kBearer;
  endpoint->auth_header.clear ();
  endpoint->auth_value.clear ();
  if (!key.empty ()) {
    if (auth == AuthType::kApiKey) {
      endpoint->auth_header = "api-key";
      endpoint->auth_value = key;
    } else {
      endpoint->auth_header = "Authorization";
      endpoint->auth_value = "Bearer " + key;
    }
  }
  return true;
}

}  // namespace voxbridge::realtime
