/* Deployment config parsing and validation (format: launcher/CONFIG.md).
 *
 * GKeyFile does the INI parsing and value unescaping. It reports neither line
 * numbers nor duplicate groups/keys, so a small scan of the raw text first
 * records where every group and key is, finds lines GKeyFile would reject,
 * and lets semantic errors name the line of the offending key. */

#include "deployment_config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "json_text.h"
#include "tool_definitions.h"

namespace voxbridge::launcher {

namespace {

constexpr const char *ROUTE_PREFIX = "route ";
constexpr const char *TOOL_PREFIX = "tool ";
constexpr const char *MATCH_HEADER_PREFIX = "match-header.";
constexpr const char *MATCH_HEADER_REGEX_PREFIX = "match-header-regex.";
constexpr const char *VAR_PREFIX = "var.";

bool
starts_with (const std::string & s, const char *prefix)
{
  return s.rfind (prefix, 0) == 0;
}

std::string
trimmed (const std::string & s)
{
  gchar *copy = g_strstrip (g_strdup (s.c_str ()));
  std::string out (copy);
  g_free (copy);
  return out;
}

/* Where each group and key of the raw text is. */
class KeyFileLayout {
 public:
  struct Problem {
    int line;
    std::string section;
    std::string key;
    std::string message;
  };

  explicit KeyFileLayout (const std::string & text)
  {
    gchar **lines = g_strsplit (text.c_str (), "\n", -1);
    std::string group;
    for (int i = 0; lines[i]; i++) {
      const int line_no = i + 1;
      std::string line = trimmed (lines[i]);
      if (line.empty () || line[0] == '#')
        continue;
      if (line[0] == '[') {
        if (line.back () != ']') {
          problems_.push_back ({line_no, "", "",
                "section header is missing its closing ']'"});
          continue;
        }
        group = line.substr (1, line.size () - 2);
        if (group_lines_.count (group)) {
          problems_.push_back ({line_no, group, "",
                "section [" + group + "] appears a second time (first on line "
                + std::to_string (group_lines_[group]) + ")"});
        } else {
          group_lines_[group] = line_no;
          group_order_.push_back (group);
        }
        continue;
      }
      const size_t eq = line.find ('=');
      if (eq == std::string::npos) {
        problems_.push_back ({line_no, group, "",
              "expected 'key = value', a [section] or a # comment"});
        continue;
      }
      if (group.empty ()) {
        problems_.push_back ({line_no, "", "",
              "key outside of any [section]"});
        continue;
      }
      std::string key = trimmed (line.substr (0, eq));
      auto where = std::make_pair (group, key);
      if (key_lines_.count (where)) {
        problems_.push_back ({line_no, group, key, "key set a second time "
              "(first on line " + std::to_string (key_lines_[where]) + ")"});
      } else {
        key_lines_[where] = line_no;
      }
    }
    g_strfreev (lines);
  }

  int group_line (const std::string & group) const
  {
    auto it = group_lines_.find (group);
    return it == group_lines_.end () ? 0 : it->second;
  }

  int key_line (const std::string & group, const std::string & key) const
  {
    auto it = key_lines_.find ({group, key});
    return it == key_lines_.end () ? group_line (group) : it->second;
  }

  const std::vector<Problem> & problems () const { return problems_; }
  const std::vector<std::string> & groups () const { return group_order_; }

 private:
  std::map<std::string, int> group_lines_;
  std::vector<std::string> group_order_;
  std::map<std::pair<std::string, std::string>, int> key_lines_;
  std::vector<Problem> problems_;
};

/* Reads typed values out of one GKeyFile group, reporting problems. */
class ConfigReader {
 public:
  ConfigReader (GKeyFile * keyfile, const KeyFileLayout & layout,
      std::string file, std::vector<ConfigDiagnostic> & diagnostics)
    : keyfile_ (keyfile), layout_ (layout), file_ (std::move (file)),
      diagnostics_ (diagnostics)
  {
    gchar *dir = g_path_get_dirname (file_.c_str ());
    dir_ = dir;
    g_free (dir);
  }

  void error (const std::string & group, const std::string & key,
      const std::string & message)
  {
    report (ConfigDiagnostic::Severity::Error, group, key, message);
  }

  void warning (const std::string & group, const std::string & key,
      const std::string & message)
  {
    report (ConfigDiagnostic::Severity::Warning, group, key, message);
  }

  bool has (const std::string & group, const char *key) const
  {
    return g_key_file_has_key (keyfile_, group.c_str (), key, nullptr);
  }

  /* String value, or nullopt when the key is absent or invalid. GKeyFile
   * escapes (\n, \\, ...) are decoded unless @raw (for regular expressions,
   * whose backslashes are their own). */
  std::optional<std::string> string (const std::string & group, const char *key,
      bool raw = false)
  {
    if (!has (group, key))
      return std::nullopt;
    GError *err = nullptr;
    gchar *value = raw ? g_key_file_get_value (keyfile_, group.c_str (), key, &err)
        : g_key_file_get_string (keyfile_, group.c_str (), key, &err);
    if (err) {   /* also set, with a value, for an invalid escape */
      error (group, key, err->message);
      g_clear_error (&err);
      g_free (value);
      return std::nullopt;
    }
    std::string out = trimmed (value);
    g_free (value);
    return out;
  }

  /* Integer in [min, max]; @fallback when absent, nullopt when invalid. */
  std::optional<gint64> integer (const std::string & group, const char *key,
      gint64 min, gint64 max, gint64 fallback)
  {
    auto text = string (group, key);
    if (!text)
      return has (group, key) ? std::nullopt : std::optional<gint64> (fallback);
    gint64 value = 0;
    GError *err = nullptr;
    if (!g_ascii_string_to_signed (text->c_str (), 10, min, max, &value, &err)) {
      error (group, key, "'" + *text + "' is not a whole number between "
          + std::to_string (min) + " and " + std::to_string (max));
      g_clear_error (&err);
      return std::nullopt;
    }
    return value;
  }

  /* A path resolved against the config file's directory. */
  std::string path (const std::string & value) const
  {
    if (value.empty () || g_path_is_absolute (value.c_str ()))
      return value;
    gchar *joined = g_build_filename (dir_.c_str (), value.c_str (), nullptr);
    gchar *canonical = g_canonicalize_filename (joined, nullptr);
    std::string out (canonical);
    g_free (joined);
    g_free (canonical);
    return out;
  }

  std::vector<std::string> keys (const std::string & group) const
  {
    std::vector<std::string> out;
    gchar **keys = g_key_file_get_keys (keyfile_, group.c_str (), nullptr, nullptr);
    for (gchar **k = keys; k && *k; k++)
      out.emplace_back (*k);
    g_strfreev (keys);
    return out;
  }

 private:
  void report (ConfigDiagnostic::Severity severity, const std::string & group,
      const std::string & key, const std::string & message)
  {
    ConfigDiagnostic d;
    d.severity = severity;
    d.file = file_;
    d.line = key.empty () ? layout_.group_line (group) : layout_.key_line (group, key);
    d.section = group;
    d.key = key;
    d.message = message;
    diagnostics_.push_back (std::move (d));
  }

  GKeyFile *keyfile_;
  const KeyFileLayout & layout_;
  std::string file_;
  std::string dir_;
  std::vector<ConfigDiagnostic> & diagnostics_;
};

bool
is_env_var_name (const std::string & name)
{
  if (name.empty () || !(g_ascii_isalpha (name[0]) || name[0] == '_'))
    return false;
  return std::all_of (name.begin (), name.end (), [] (char c) {
        return g_ascii_isalnum (c) || c == '_';
      });
}

bool
is_route_name (const std::string & name)
{
  return !name.empty () && std::all_of (name.begin (), name.end (), [] (char c) {
        return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.';
      });
}

bool
is_loopback_host (const std::string & host)
{
  if (host == "localhost")
    return true;
  GInetAddress *address = g_inet_address_new_from_string (host.c_str ());
  if (!address)
    return false;
  const bool loopback = g_inet_address_get_is_loopback (address);
  g_object_unref (address);
  return loopback;
}

std::vector<std::string>
split_list (const std::string & value)
{
  std::vector<std::string> out;
  gchar **items = g_strsplit (value.c_str (), ",", -1);
  for (gchar **item = items; *item; item++) {
    std::string s = trimmed (*item);
    if (!s.empty ())
      out.push_back (s);
  }
  g_strfreev (items);
  return out;
}

void
check_unknown_keys (ConfigReader & reader, const std::string & group,
    const std::set<std::string> & known, const std::vector<const char *> & prefixes)
{
  for (const std::string & key : reader.keys (group)) {
    if (known.count (key))
      continue;
    bool prefixed = false;
    for (const char *prefix : prefixes)
      prefixed |= starts_with (key, prefix) && key.size () > strlen (prefix);
    if (!prefixed)
      reader.error (group, key, "unknown key");
  }
}

std::optional<SipListenAddress>
parse_sip_listen (const std::string & text, std::string & error)
{
  GError *err = nullptr;
  GUri *uri = g_uri_parse (text.c_str (), G_URI_FLAGS_NON_DNS, &err);
  if (!uri) {
    error = "'" + text + "' is not transport://host:port (" + err->message + ")";
    g_clear_error (&err);
    return std::nullopt;
  }
  SipListenAddress address;
  const std::string scheme = g_uri_get_scheme (uri);
  const std::string host = g_uri_get_host (uri) ? g_uri_get_host (uri) : "";
  const gint port = g_uri_get_port (uri);
  const bool has_path = g_uri_get_path (uri) && *g_uri_get_path (uri);
  const bool has_extra = has_path || g_uri_get_query (uri) || g_uri_get_userinfo (uri);
  g_uri_unref (uri);

  if (scheme == "udp")
    address.transport = SipTransport::Udp;
  else if (scheme == "tcp")
    address.transport = SipTransport::Tcp;
  else if (scheme == "tls")
    address.transport = SipTransport::Tls;
  else {
    error = "'" + text + "': transport must be udp, tcp or tls, not '" + scheme + "'";
    return std::nullopt;
  }
  if (host.empty () || has_extra) {
    error = "'" + text + "' is not transport://host:port";
    return std::nullopt;
  }
  address.host = host;
  if (port > 0)
    address.port = port;
  else
    address.port = address.transport == SipTransport::Tls ? 5061 : 5060;
  return address;
}

void
parse_sip (ConfigReader & reader, SipSettings & sip)
{
  const std::string g = "sip";
  check_unknown_keys (reader, g,
      {"listen", "media-address", "rtp-ports", "max-calls"}, {});

  auto listen = reader.string (g, "listen");
  if (!listen) {
    if (!reader.has (g, "listen"))
      reader.error (g, "listen", "missing; e.g. listen = udp://0.0.0.0:5060, tcp://0.0.0.0:5060");
  } else {
    for (const std::string & item : split_list (*listen)) {
      std::string error;
      if (auto address = parse_sip_listen (item, error))
        sip.listen.push_back (*address);
      else
        reader.error (g, "listen", error);
    }
    if (sip.listen.empty ())
      reader.error (g, "listen", "no listen address given");
  }

  auto media = reader.string (g, "media-address");
  if (!media) {
    if (!reader.has (g, "media-address"))
      reader.error (g, "media-address",
          "missing; the IP address callers send RTP to (put in SDP)");
  } else {
    GInetAddress *address = g_inet_address_new_from_string (media->c_str ());
    if (!address)
      reader.error (g, "media-address", "'" + *media + "' is not an IP address");
    else if (g_inet_address_get_is_any (address))
      reader.error (g, "media-address", "'" + *media
          + "' is the any-address; callers need a reachable address");
    else
      sip.media_address = *media;
    g_clear_object (&address);
  }

  if (auto ports = reader.string (g, "rtp-ports")) {
    gchar **bounds = g_strsplit (ports->c_str (), "-", 2);
    guint64 low = 0, high = 0;
    const bool parsed = g_strv_length (bounds) == 2
        && g_ascii_string_to_unsigned (g_strstrip (bounds[0]), 10, 1024, 65535, &low, nullptr)
        && g_ascii_string_to_unsigned (g_strstrip (bounds[1]), 10, 1024, 65535, &high, nullptr);
    g_strfreev (bounds);
    if (!parsed)
      reader.error (g, "rtp-ports", "'" + *ports + "' is not a range like 20000-29999 within 1024-65535");
    else if (low % 2 != 0)
      reader.error (g, "rtp-ports", "the range must start on an even port (RTP uses even ports)");
    else if (high < low + 1)
      reader.error (g, "rtp-ports", "the range must hold at least one RTP/RTCP port pair");
    else {
      sip.rtp_port_min = low;
      sip.rtp_port_max = high;
    }
  }

  if (auto max_calls = reader.integer (g, "max-calls", 1, 100000, sip.max_calls))
    sip.max_calls = *max_calls;

  const guint port_pairs = (sip.rtp_port_max - sip.rtp_port_min + 1) / 2;
  if (port_pairs < sip.max_calls)
    reader.warning (g, "max-calls", "rtp-ports has only " + std::to_string (port_pairs)
        + " port pairs for " + std::to_string (sip.max_calls) + " calls");
}

bool
is_azure_host (const std::string & host)
{
  for (const char *suffix : {".openai.azure.com", ".cognitiveservices.azure.com",
           ".services.ai.azure.com"}) {
    if (g_str_has_suffix (host.c_str (), suffix))
      return true;
  }
  return false;
}

void
parse_ai (ConfigReader & reader, AiSettings & ai)
{
  const std::string g = "ai";
  check_unknown_keys (reader, g,
      {"url", "auth", "key-env", "key", "ca-file", "model", "connect-timeout"}, {});

  if (auto url = reader.string (g, "url")) {
    GUri *uri = g_uri_parse (url->c_str (), G_URI_FLAGS_NONE, nullptr);
    const char *scheme = uri ? g_uri_get_scheme (uri) : nullptr;
    if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri))
      reader.error (g, "url", "'" + *url + "' is not a URL");
    else if (g_strcmp0 (scheme, "ws") != 0 && g_strcmp0 (scheme, "wss") != 0)
      reader.error (g, "url", "'" + *url + "' must start with ws:// or wss://");
    else {
      ai.url = *url;
      const char *query = g_uri_get_query (uri);
      if (query && strstr (query, "api-version="))
        reader.warning (g, "url", "api-version on a GA Realtime URL makes Azure answer 401; "
            "use .../openai/v1/realtime?model=<deployment>");
    }
    if (uri)
      g_uri_unref (uri);
  } else if (!reader.has (g, "url")) {
    reader.error (g, "url", "missing; e.g. url = wss://<resource>.openai.azure.com/openai/v1/realtime");
  }

  if (auto auth = reader.string (g, "auth")) {
    if (*auth == "auto")
      ai.auth = AiAuth::Auto;
    else if (*auth == "bearer")
      ai.auth = AiAuth::Bearer;
    else if (*auth == "api-key")
      ai.auth = AiAuth::ApiKey;
    else
      reader.error (g, "auth", "'" + *auth + "' is not one of auto, bearer, api-key");
  }

  if (auto key_env = reader.string (g, "key-env")) {
    if (is_env_var_name (*key_env))
      ai.key_env = *key_env;
    else
      reader.error (g, "key-env", "'" + *key_env + "' is not an environment variable name "
          "(write the name of the variable, not the key)");
  }
  if (auto key = reader.string (g, "key")) {
    ai.key = *key;
    if (reader.has (g, "key-env"))
      reader.error (g, "key", "set either key or key-env, not both");
    else
      reader.warning (g, "key", "the API key is written in the config file; "
          "prefer key-env = NAME_OF_ENVIRONMENT_VARIABLE");
  }
  if (!ai.url.empty () && starts_with (ai.url, "wss://") && ai.key.empty ()
      && ai.key_env.empty ())
    reader.warning (g, "", "no key-env: the Realtime endpoint will be called without credentials");

  if (auto ca_file = reader.string (g, "ca-file")) {
    ai.ca_file = reader.path (*ca_file);
    if (!g_file_test (ai.ca_file.c_str (), G_FILE_TEST_IS_REGULAR))
      reader.error (g, "ca-file", "no such file: " + ai.ca_file);
  }
  if (auto model = reader.string (g, "model"))
    ai.model = *model;
  if (auto timeout = reader.integer (g, "connect-timeout", 1, 300, ai.connect_timeout_s))
    ai.connect_timeout_s = static_cast<guint> (*timeout);
}

void
parse_http (ConfigReader & reader, HttpSettings & http)
{
  const std::string g = "http";
  check_unknown_keys (reader, g, {"listen", "token-env", "token"}, {});

  if (auto listen = reader.string (g, "listen")) {
    GError *err = nullptr;
    GSocketConnectable *address = g_network_address_parse (listen->c_str (), 0, &err);
    if (!address) {
      reader.error (g, "listen", "'" + *listen + "' is not host:port (" + err->message + ")");
      g_clear_error (&err);
    } else {
      const guint16 port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
      if (port == 0 && listen->find (":0") == std::string::npos)
        reader.error (g, "listen", "'" + *listen + "' has no port; e.g. 127.0.0.1:8080");
      else {
        http.host = g_network_address_get_hostname (G_NETWORK_ADDRESS (address));
        http.port = port;
      }
      g_object_unref (address);
    }
  }
  if (auto token_env = reader.string (g, "token-env")) {
    if (is_env_var_name (*token_env))
      http.token_env = *token_env;
    else
      reader.error (g, "token-env", "'" + *token_env + "' is not an environment variable name");
  }
  if (auto token = reader.string (g, "token")) {
    http.token = *token;
    if (reader.has (g, "token-env"))
      reader.error (g, "token", "set either token or token-env, not both");
    else
      reader.warning (g, "token", "the HTTP bearer token is written in the config file; "
          "prefer token-env = NAME_OF_ENVIRONMENT_VARIABLE");
  }
  if (http.token.empty () && http.token_env.empty () && !is_loopback_host (http.host))
    reader.error (g, "token-env", "the HTTP API listens on " + http.host
        + ", which is not loopback, so it needs a bearer token (token-env)");
}

void
parse_log (ConfigReader & reader, LogSettings & log)
{
  const std::string g = "log";
  check_unknown_keys (reader, g, {"format", "events-file"}, {});
  if (auto format = reader.string (g, "format")) {
    if (*format == "text")
      log.format = EventLogFormat::Text;
    else if (*format == "json")
      log.format = EventLogFormat::Json;
    else
      reader.error (g, "format", "'" + *format + "' is not one of text, json");
  }
  if (auto file = reader.string (g, "events-file"))
    log.events_file = *file == "-" ? "" : reader.path (*file);
}

std::optional<MatchRule>
read_rule (ConfigReader & reader, const std::string & g, const std::string & key,
    std::string header, MatchRule::Kind kind)
{
  auto pattern = reader.string (g, key.c_str (), kind == MatchRule::Kind::Regex);
  if (!pattern)
    return std::nullopt;
  if (pattern->empty ()) {
    reader.error (g, key, "empty pattern; use * to require only that the header is present");
    return std::nullopt;
  }
  if (kind == MatchRule::Kind::Glob && *pattern == "*")
    kind = MatchRule::Kind::Present;
  std::string error;
  auto rule = MatchRule::create (std::move (header), kind, *pattern, error);
  if (!rule)
    reader.error (g, key, error);
  return rule;
}

/* tools = and transfer-target = of a route; the names are checked against
 * the [tool NAME] sections in check_route_tools, once all are read. */
void
parse_route_tools (ConfigReader & reader, const std::string & g, Route & route)
{
  if (auto tools = reader.string (g, "tools")) {
    std::set<std::string> seen;
    for (const std::string & name : split_list (*tools)) {
      if (!is_tool_name (name))
        reader.error (g, "tools", "'" + name + "' is not a tool name (1-64 letters, "
            "digits, '_' or '-')");
      else if (!seen.insert (name).second)
        reader.error (g, "tools", "'" + name + "' is listed twice");
      else
        route.tools.push_back (name);
    }
  }
  if (auto target = reader.string (g, "transfer-target")) {
    const bool sip = starts_with (*target, "sip:") || starts_with (*target, "sips:");
    const size_t scheme = target->find (':') + 1;
    const bool blank = std::any_of (target->begin (), target->end (),
        [] (char c) { return g_ascii_isspace (c) || g_ascii_iscntrl (c); });
    if (!sip || target->size () <= scheme || blank)
      reader.error (g, "transfer-target", "'" + *target
          + "' is not a SIP URI; e.g. transfer-target = sip:agent@pbx.example.com");
    else
      route.transfer_target = *target;
  }
}

/* [tool NAME]: a custom tool answered by a webhook. */
std::optional<ToolSettings>
parse_tool (ConfigReader & reader, const std::string & g)
{
  ToolSettings tool;
  tool.name = g.substr (strlen (TOOL_PREFIX));
  check_unknown_keys (reader, g,
      {"description", "parameters", "url", "timeout-ms", "token-env"}, {});
  bool valid = true;
  if (!is_tool_name (tool.name)) {
    reader.error (g, "", "tool name '" + tool.name
        + "' may only hold letters, digits, '_' and '-' (at most 64)");
    valid = false;
  } else if (is_builtin_tool (tool.name)) {
    reader.error (g, "", "'" + tool.name + "' is a built-in tool; "
        "list it in a route's tools instead of defining it");
    valid = false;
  }

  if (auto description = reader.string (g, "description"))
    tool.description = *description;
  if (tool.description.empty ())
    reader.error (g, "description", "missing; tells the model what the tool does "
        "and when to call it");

  tool.parameters_json = "{\"type\":\"object\",\"properties\":{}}";
  if (auto parameters = reader.string (g, "parameters")) {
    GError *err = nullptr;
    JsonNode *schema = json_from_string (parameters->c_str (), &err);
    if (!schema)
      reader.error (g, "parameters", std::string ("not JSON: ")
          + (err ? err->message : "empty"));
    else if (!JSON_NODE_HOLDS_OBJECT (schema))
      reader.error (g, "parameters", "must be a JSON schema object, e.g. "
          "{\"type\":\"object\",\"properties\":{\"order\":{\"type\":\"string\"}}}");
    else if (json_has_non_finite (schema))
      reader.error (g, "parameters", "holds a number too large for JSON "
          "(the model would get it as 'inf')");
    else
      tool.parameters_json = *parameters;
    g_clear_error (&err);
    if (schema)
      json_node_unref (schema);
  }

  if (auto url = reader.string (g, "url")) {
    GUri *uri = g_uri_parse (url->c_str (), G_URI_FLAGS_NONE, nullptr);
    const char *scheme = uri ? g_uri_get_scheme (uri) : nullptr;
    if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)
        || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
      reader.error (g, "url", "'" + *url + "' is not an http:// or https:// URL");
    else
      tool.url = *url;
    if (uri)
      g_uri_unref (uri);
  } else if (!reader.has (g, "url")) {
    reader.error (g, "url", "missing; the webhook the tool's calls are POSTed to");
  }
  if (auto timeout = reader.integer (g, "timeout-ms", 100, 60000, tool.timeout_ms))
    tool.timeout_ms = static_cast<guint> (*timeout);
  if (auto token_env = reader.string (g, "token-env")) {
    if (is_env_var_name (*token_env))
      tool.token_env = *token_env;
    else
      reader.error (g, "token-env", "'" + *token_env + "' is not an environment variable "
          "name (write the name of the variable, not the token)");
  }
  if (!valid)
    return std::nullopt;
  return tool;
}

/* Every tool a route lists exists; transfer_call has a target; every
 * [tool NAME] is used. */
void
check_route_tools (ConfigReader & reader, const DeploymentConfig & config)
{
  std::set<std::string> used;
  for (const Route & route : config.routes) {
    const std::string g = ROUTE_PREFIX + route.name;
    bool transfers = false;
    for (const std::string & name : route.tools) {
      used.insert (name);
      transfers |= name == "transfer_call";
      if (!is_builtin_tool (name) && !config.tools.count (name)) {
        std::string builtins;
        for (const std::string & b : builtin_tool_names ())
          builtins += (builtins.empty () ? "" : ", ") + b;
        reader.error (g, "tools", "no [tool " + name + "] section for '" + name
            + "' (built-in tools: " + builtins + ")");
      }
    }
    if (transfers && route.transfer_target.empty ())
      reader.error (g, "tools", "transfer_call needs transfer-target = sip:...");
    if (!transfers && !route.transfer_target.empty ())
      reader.warning (g, "transfer-target", "unused: transfer_call is not in tools");
  }
  for (const auto & [name, tool] : config.tools) {
    if (!used.count (name))
      reader.warning (TOOL_PREFIX + name, "", "no route lists this tool in its tools");
  }
}

std::optional<bool>
read_flag (ConfigReader & reader, const std::string & g, const char *key)
{
  auto text = reader.string (g, key);
  if (!text)
    return std::nullopt;
  if (*text == "true" || *text == "yes" || *text == "on")
    return true;
  if (*text == "false" || *text == "no" || *text == "off")
    return false;
  reader.error (g, key, "'" + *text + "' is not true or false");
  return std::nullopt;
}

/* recording, recording-dir, transcript, summary, summary-webhook,
 * summary-timeout. */
void
parse_route_record (ConfigReader & reader, const std::string & g, CallRecordSettings & record)
{
  if (auto format = reader.string (g, "recording")) {
    if (*format == "off")
      record.recording = RecordingFormat::Off;
    else if (*format == "wav")
      record.recording = RecordingFormat::Wav;
    else if (*format == "ogg")
      record.recording = RecordingFormat::Ogg;
    else
      reader.error (g, "recording", "'" + *format + "' is not off, wav or ogg");
  }
  record.transcript = read_flag (reader, g, "transcript").value_or (false);
  record.summary = read_flag (reader, g, "summary").value_or (false);
  if (auto dir = reader.string (g, "recording-dir"))
    record.dir = reader.path (*dir);
  const bool files = record.recording != RecordingFormat::Off || record.transcript;
  if (files && record.dir.empty ())
    reader.error (g, "recording-dir", "missing; the directory for this route's "
        "recordings and transcripts");
  else if (files && !g_file_test (record.dir.c_str (), G_FILE_TEST_IS_DIR))
    reader.warning (g, "recording-dir", "no such directory (yet): " + record.dir
        + "; it is created at the first call");
  if (auto url = reader.string (g, "summary-webhook")) {
    if (!g_str_has_prefix (url->c_str (), "http://") && !g_str_has_prefix (url->c_str (), "https://"))
      reader.error (g, "summary-webhook", "'" + *url + "' is not an http:// or https:// URL");
    else
      record.summary_webhook = *url;
    if (!record.summary)
      reader.warning (g, "summary-webhook", "unused: summary is not true");
  }
  if (auto timeout = reader.integer (g, "summary-timeout", 1, 300, 15))
    record.summary_timeout_s = static_cast<guint> (*timeout);
}

std::optional<Route>
parse_route (ConfigReader & reader, const std::string & g, int position)
{
  Route route;
  route.name = g.substr (strlen (ROUTE_PREFIX));
  route.position = position;
  if (!is_route_name (route.name)) {
    reader.error (g, "", "route name '" + route.name
        + "' may only hold letters, digits, '-', '_' and '.'");
  }
  check_unknown_keys (reader, g,
      {"priority", "match-user", "match-user-regex", "pipeline", "fallback-pipeline",
       "instructions", "voice", "greeting", "barge-in", "prompt", "recording", "recording-dir",
       "transcript", "summary", "summary-webhook", "summary-timeout", "tools", "transfer-target",
       "dtmf-to-ai", "dtmf-inter-digit-ms", "silence-timeout"},
      {MATCH_HEADER_PREFIX, MATCH_HEADER_REGEX_PREFIX, VAR_PREFIX});

  if (auto priority = reader.integer (g, "priority", -1000000, 1000000, 0))
    route.priority = *priority;

  if (reader.has (g, "match-user") && reader.has (g, "match-user-regex"))
    reader.error (g, "match-user-regex", "set either match-user or match-user-regex, not both");
  if (auto rule = read_rule (reader, g, "match-user", "", MatchRule::Kind::Glob))
    route.rules.push_back (*rule);
  if (auto rule = read_rule (reader, g, "match-user-regex", "", MatchRule::Kind::Regex))
    route.rules.push_back (*rule);

  for (const std::string & key : reader.keys (g)) {
    std::optional<MatchRule> rule;
    if (starts_with (key, MATCH_HEADER_PREFIX)) {
      gchar *lower = g_ascii_strdown (key.c_str () + strlen (MATCH_HEADER_PREFIX), -1);
      rule = read_rule (reader, g, key, lower, MatchRule::Kind::Glob);
      g_free (lower);
    } else if (starts_with (key, MATCH_HEADER_REGEX_PREFIX)) {
      gchar *lower = g_ascii_strdown (key.c_str () + strlen (MATCH_HEADER_REGEX_PREFIX), -1);
      rule = read_rule (reader, g, key, lower, MatchRule::Kind::Regex);
      g_free (lower);
    } else if (starts_with (key, VAR_PREFIX)) {
      if (auto value = reader.string (g, key.c_str ()))
        route.vars[key.substr (strlen (VAR_PREFIX))] = *value;
    }
    if (rule)
      route.rules.push_back (*rule);
  }

  if (auto pipeline = reader.string (g, "pipeline")) {
    route.pipeline_file = reader.path (*pipeline);
    if (!g_file_test (route.pipeline_file.c_str (), G_FILE_TEST_IS_REGULAR))
      reader.error (g, "pipeline", "no such file: " + route.pipeline_file);
  } else if (!reader.has (g, "pipeline")) {
    reader.error (g, "pipeline", "missing; the pipeline description file for this route");
  }
  if (auto fallback = reader.string (g, "fallback-pipeline")) {
    route.fallback_pipeline_file = reader.path (*fallback);
    if (!g_file_test (route.fallback_pipeline_file.c_str (), G_FILE_TEST_IS_REGULAR))
      reader.error (g, "fallback-pipeline", "no such file: " + route.fallback_pipeline_file);
  }
  if (auto prompt = reader.string (g, "prompt")) {
    route.prompt = reader.path (*prompt);
    if (!g_file_test (route.prompt.c_str (), G_FILE_TEST_IS_REGULAR))
      reader.warning (g, "prompt", "no such file (yet): " + route.prompt);
  }
  route.instructions = reader.string (g, "instructions").value_or ("");
  route.voice = reader.string (g, "voice").value_or ("");
  route.greeting = reader.string (g, "greeting").value_or ("");
  route.barge_in = read_flag (reader, g, "barge-in");
  route.dtmf_to_ai = read_flag (reader, g, "dtmf-to-ai").value_or (true);
  if (auto ms = reader.integer (g, "dtmf-inter-digit-ms", 0, 10000, 1500))
    route.dtmf_inter_digit_ms = static_cast<guint> (*ms);
  if (auto s = reader.integer (g, "silence-timeout", 0, 3600, 0))
    route.silence_timeout_s = static_cast<guint> (*s);
  parse_route_record (reader, g, route.record);
  parse_route_tools (reader, g, route);
  return route;
}

void
warn_unreachable_routes (ConfigReader & reader, const std::vector<Route> & routes)
{
  for (size_t i = 0; i + 1 < routes.size (); i++) {
    if (!routes[i].rules.empty ())
      continue;
    std::string shadowed;
    for (size_t j = i + 1; j < routes.size (); j++)
      shadowed += (shadowed.empty () ? "" : ", ") + routes[j].name;
    reader.warning (ROUTE_PREFIX + routes[i].name, "",
        "matches every call, so these routes are never used: " + shadowed);
    return;
  }
}

}  // namespace

std::string
ConfigDiagnostic::to_string () const
{
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string (line);
  out += severity == Severity::Error ? ": error: " : ": warning: ";
  if (!section.empty ())
    out += "[" + section + "] ";
  if (!key.empty ())
    out += key + ": ";
  return out + message;
}

std::string
SipListenAddress::sofia_url () const
{
  const bool ipv6 = host.find (':') != std::string::npos;
  const std::string h = ipv6 ? "[" + host + "]" : host;
  return "sip:" + h + ":" + std::to_string (port) + ";transport="
      + sip_transport_name (transport);
}

std::string
AiSettings::effective_url () const
{
  if (model.empty () || url.empty ())
    return url;
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED_QUERY, nullptr);
  if (!uri)
    return url;
  const char *query = g_uri_get_query (uri);
  bool has_model = false;
  if (query) {
    GHashTable *params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    has_model = params && g_hash_table_contains (params, "model");
    if (params)
      g_hash_table_unref (params);
  }
  std::string out = url;
  if (!has_model) {
    gchar *escaped = g_uri_escape_string (model.c_str (), nullptr, FALSE);
    out += std::string (query ? "&" : "?") + "model=" + escaped;
    g_free (escaped);
  }
  g_uri_unref (uri);
  return out;
}

AiAuth
AiSettings::effective_auth () const
{
  if (auth != AiAuth::Auto)
    return auth;
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_NONE, nullptr);
  const bool azure = uri && g_uri_get_host (uri) && is_azure_host (g_uri_get_host (uri));
  if (uri)
    g_uri_unref (uri);
  return azure ? AiAuth::ApiKey : AiAuth::Bearer;
}

std::optional<MatchRule>
MatchRule::create (std::string header, Kind kind, std::string pattern,
    std::string & error)
{
  MatchRule rule;
  rule.header_ = std::move (header);
  rule.kind_ = kind;
  rule.pattern_ = std::move (pattern);
  if (kind == Kind::Glob) {
    rule.glob_.reset (g_pattern_spec_new (rule.pattern_.c_str ()), g_pattern_spec_free);
  } else if (kind == Kind::Regex) {
    GError *err = nullptr;
    GRegex *regex = g_regex_new (rule.pattern_.c_str (), G_REGEX_OPTIMIZE,
        G_REGEX_MATCH_DEFAULT, &err);
    if (!regex) {
      error = "invalid regular expression '" + rule.pattern_ + "': " + err->message;
      g_clear_error (&err);
      return std::nullopt;
    }
    rule.regex_.reset (regex, g_regex_unref);
  }
  return rule;
}

bool
MatchRule::matches (const char *value) const
{
  if (!value)
    return false;
  switch (kind_) {
    case Kind::Present:
      return true;
    case Kind::Glob:
      return g_pattern_spec_match_string (glob_.get (), value);
    case Kind::Regex:
      return g_regex_match (regex_.get (), value, G_REGEX_MATCH_DEFAULT, nullptr);
  }
  return false;
}

size_t
ConfigLoadResult::error_count () const
{
  return std::count_if (diagnostics.begin (), diagnostics.end (), [] (const auto & d) {
        return d.severity == ConfigDiagnostic::Severity::Error;
      });
}

ConfigLoadResult
parse_deployment_config (const std::string & text, const std::string & file_name)
{
  ConfigLoadResult result;
  KeyFileLayout layout (text);
  for (const auto & problem : layout.problems ()) {
    result.diagnostics.push_back ({ConfigDiagnostic::Severity::Error, file_name,
          problem.line, problem.section, problem.key, problem.message});
  }
  if (!result.diagnostics.empty ())
    return result;

  GKeyFile *keyfile = g_key_file_new ();
  GError *err = nullptr;
  if (!g_key_file_load_from_data (keyfile, text.c_str (), text.size (),
          G_KEY_FILE_NONE, &err)) {
    result.diagnostics.push_back ({ConfigDiagnostic::Severity::Error, file_name, 0,
          "", "", err->message});
    g_clear_error (&err);
    g_key_file_unref (keyfile);
    return result;
  }

  DeploymentConfig config;
  config.file = file_name;
  ConfigReader reader (keyfile, layout, file_name, result.diagnostics);

  for (const char *required : {"sip", "ai"}) {
    if (!g_key_file_has_group (keyfile, required))
      reader.error (required, "", std::string ("section [") + required + "] is missing");
  }
  int position = 0;
  for (const std::string & group : layout.groups ()) {
    if (group == "sip")
      parse_sip (reader, config.sip);
    else if (group == "ai")
      parse_ai (reader, config.ai);
    else if (group == "http")
      parse_http (reader, config.http);
    else if (group == "log")
      parse_log (reader, config.log);
    else if (starts_with (group, ROUTE_PREFIX)) {
      if (auto route = parse_route (reader, group, position++))
        config.routes.push_back (std::move (*route));
    } else if (starts_with (group, TOOL_PREFIX)) {
      if (auto tool = parse_tool (reader, group))
        config.tools[tool->name] = std::move (*tool);
    } else
      reader.error (group, "", "unknown section; expected [sip], [ai], [http], [log], "
          "[route NAME] or [tool NAME]");
  }
  if (config.routes.empty ())
    reader.error ("", "", "no [route NAME] section: every call would be rejected");

  std::stable_sort (config.routes.begin (), config.routes.end (),
      [] (const Route & a, const Route & b) { return a.priority > b.priority; });
  warn_unreachable_routes (reader, config.routes);
  check_route_tools (reader, config);
  g_key_file_unref (keyfile);

  if (result.error_count () == 0)
    result.config = std::move (config);
  return result;
}

ConfigLoadResult
load_deployment_config (const std::string & path)
{
  gchar *contents = nullptr;
  gsize length = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &contents, &length, &err)) {
    ConfigLoadResult result;
    result.diagnostics.push_back ({ConfigDiagnostic::Severity::Error, path, 0, "", "",
          err->message});
    g_clear_error (&err);
    return result;
  }
  ConfigLoadResult result = parse_deployment_config (std::string (contents, length), path);
  g_free (contents);
  return result;
}

const char *
sip_transport_name (SipTransport transport)
{
  switch (transport) {
    case SipTransport::Udp:
      return "udp";
    case SipTransport::Tcp:
      return "tcp";
    case SipTransport::Tls:
      return "tls";
  }
  return "udp";
}

const char *
recording_format_name (RecordingFormat format)
{
  switch (format) {
    case RecordingFormat::Off:
      return "off";
    case RecordingFormat::Wav:
      return "wav";
    case RecordingFormat::Ogg:
      return "ogg";
  }
  return "off";
}

const char *
ai_auth_name (AiAuth auth)
{
  switch (auth) {
    case AiAuth::Auto:
      return "auto";
    case AiAuth::Bearer:
      return "bearer";
    case AiAuth::ApiKey:
      return "api-key";
  }
  return "auto";
}

}  // namespace voxbridge::launcher
