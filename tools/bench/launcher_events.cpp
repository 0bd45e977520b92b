#include "launcher_events.h"

#include <json-glib/json-glib.h>

#include <cstdlib>

namespace {

std::string
member (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  if (node == nullptr || json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

/* "sip:bench-7@127.0.0.1:5060" -> "bench-7" */
std::string
user_of (const std::string &uri)
{
  std::string s = uri;
  const auto colon = s.find (':');
  if (s.rfind ("sip:", 0) == 0 || s.rfind ("sips:", 0) == 0)
    s = s.substr (colon + 1);
  return s.substr (0, s.find ('@'));
}

}  // namespace

std::map<std::string, double>
ai_connect_ms_by_caller (std::istream &log, size_t *skipped)
{
  std::map<std::string, std::string> caller_of_call;
  std::map<std::string, double> connect_ms;
  *skipped = 0;
  JsonParser *parser = json_parser_new ();
  std::string line;
  while (std::getline (log, line)) {
    if (line.empty ())
      continue;
    JsonNode *root = nullptr;
    if (json_parser_load_from_data (parser, line.c_str (), static_cast<gssize> (line.size ()),
            nullptr))
      root = json_parser_get_root (parser);
    if (root == nullptr || !JSON_NODE_HOLDS_OBJECT (root)) {
      (*skipped)++;
      continue;
    }
    JsonObject *o = json_node_get_object (root);
    const std::string event = member (o, "event");
    const std::string call_id = member (o, "call_id");
    if (event == "call.started") {
      caller_of_call[call_id] = user_of (member (o, "from"));
    } else if (event == "call.answered") {
      const std::string ms = member (o, "ai_connect_ms");
      auto caller = caller_of_call.find (call_id);
      char *end = nullptr;
      const double value = ms.empty () ? -1 : std::strtod (ms.c_str (), &end);
      if (caller != caller_of_call.end () && end && *end == '\0' && value >= 0)
        connect_ms[caller->second] = value;
    }
  }
  g_object_unref (parser);
  return connect_ms;
}
