#include "upgrade_check.h"

#include <glib.h>
#include <libsoup/soup.h>

namespace voxbridge::sim {

static std::string
error_body (const std::string &message, const char *code, const char *param)
{
  gchar *escaped = g_strescape (message.c_str (), nullptr);
  std::string body = std::string ("{\"error\":{\"message\":\"") + escaped +
      "\",\"type\":\"invalid_request_error\",\"code\":" +
      (code ? std::string ("\"") + code + "\"" : "null") + ",\"param\":" +
      (param ? std::string ("\"") + param + "\"" : "null") + "}}";
  g_free (escaped);
  return body;
}

/* Compares without an early exit, so timing does not leak how much matched. */
static bool
keys_equal (const std::string &a, const std::string &b)
{
  if (a.size () != b.size ())
    return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size (); i++)
    diff |= static_cast<unsigned char> (a[i]) ^ static_cast<unsigned char> (b[i]);
  return diff == 0;
}

static std::string
trimmed (const std::string &s)
{
  size_t begin = s.find_first_not_of (" \t");
  size_t end = s.find_last_not_of (" \t");
  return begin == std::string::npos ? std::string () : s.substr (begin, end - begin + 1);
}

static std::optional<std::string>
presented_key (const UpgradeRequest &request)
{
  if (request.api_key)
    return trimmed (*request.api_key);
  if (request.authorization && g_ascii_strncasecmp (request.authorization->c_str (), "Bearer ", 7) == 0)
    return trimmed (request.authorization->substr (7));
  return std::nullopt;
}

UpgradeVerdict
check_upgrade_request (const UpgradeRequest &request,
    const std::optional<std::string> &expected_key)
{
  UpgradeVerdict verdict;
  verdict.azure = request.path == kAzurePath;
  if (request.path != kOpenAiPath && !verdict.azure) {
    verdict.status = 404;
    verdict.body = error_body ("Invalid URL (GET " + request.path + ")", nullptr, nullptr);
    return verdict;
  }

  GHashTable *query = request.query.empty () ? nullptr : soup_form_decode (request.query.c_str ());
  const char *model = query ? static_cast<const char *> (g_hash_table_lookup (query, "model"))
                            : nullptr;
  bool has_api_version = query && g_hash_table_contains (query, "api-version");
  if (model)
    verdict.model = model;
  if (query)
    g_hash_table_unref (query);

  /* Credentials first: the services authenticate before they look at the query. */
  if (expected_key) {
    std::optional<std::string> key = presented_key (request);
    if (!key) {
      verdict.status = 401;
      verdict.body = error_body (
          "You didn't provide an API key. You need to provide your API key in an "
          "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
          "or as the api-key header.",
          "invalid_api_key", nullptr);
      return verdict;
    }
    if (!keys_equal (*key, *expected_key)) {
      std::string shown = key->size () > 4 ? "****" + key->substr (key->size () - 4) : "****";
      verdict.status = 401;
      verdict.body = error_body ("Incorrect API key provided: " + shown + ".",
          "invalid_api_key", nullptr);
      return verdict;
    }
  }

  /* The GA Azure endpoint refuses the preview-style api-version with 401. */
  if (verdict.azure && has_api_version) {
    verdict.status = 401;
    verdict.body = error_body ("The api-version query parameter is not allowed when using "
                               "the /openai/v1 (GA) endpoint; remove it.",
        "invalid_api_version", "api-version");
    return verdict;
  }

  if (verdict.model.empty ()) {
    verdict.status = 400;
    verdict.body = error_body ("Missing required parameter: 'model'.",
        "missing_required_parameter", "model");
    return verdict;
  }
  return verdict;
}

}  // namespace voxbridge::sim
