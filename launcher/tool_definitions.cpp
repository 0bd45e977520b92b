/* Function definitions of the built-in tools and of [tool NAME] sections. */

#include "tool_definitions.h"
#include "json_text.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace voxbridge::launcher {

namespace {

struct BuiltinTool {
  const char *name;
  const char *description;
  const char *parameters;   /* JSON schema */
};

/* What the model reads to decide when to call them: say what happens on the
 * call and what the model should say around it. */
const BuiltinTool BUILTIN_TOOLS[] = {
  {"end_call",
   "Hang up the phone call. Call it when the conversation is over: the caller said "
   "goodbye or asked to end the call. Say a short goodbye in the same turn; the call "
   "is hung up once your goodbye has been played to the caller.",
   "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\","
   "\"description\":\"Why the call ends, in a few words\"}}}"},
  {"transfer_call",
   "Transfer the caller to a human agent. Call it when the caller asks for a person "
   "or you cannot help. Tell the caller that you are transferring them first.",
   "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\","
   "\"description\":\"Why the caller is transferred, for the agent\"}}}"},
  {"send_dtmf",
   "Send DTMF tones (telephone keypad presses) on the call, e.g. to choose an option "
   "of a phone menu or to enter an extension.",
   "{\"type\":\"object\",\"properties\":{\"digits\":{\"type\":\"string\","
   "\"description\":\"The keys to press, in order: 0-9, *, #, A-D\"}},"
   "\"required\":[\"digits\"]}"},
};

const BuiltinTool *
find_builtin (const std::string & name)
{
  for (const BuiltinTool & tool : BUILTIN_TOOLS) {
    if (name == tool.name)
      return &tool;
  }
  return nullptr;
}

void
add_function (JsonBuilder * builder, const std::string & name,
    const std::string & description, const std::string & parameters)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "function");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name.c_str ());
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, description.c_str ());
  json_builder_set_member_name (builder, "parameters");
  JsonNode *schema = json_from_string (parameters.c_str (), nullptr);
  if (!schema || !JSON_NODE_HOLDS_OBJECT (schema)) {
    /* The config parser checked it; an empty schema keeps the array valid. */
    if (schema)
      json_node_unref (schema);
    schema = json_from_string ("{\"type\":\"object\",\"properties\":{}}", nullptr);
  }
  json_builder_add_value (builder, schema);   /* takes the node */
  json_builder_end_object (builder);
}

}  // namespace

const std::vector<std::string> &
builtin_tool_names ()
{
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const BuiltinTool & tool : BUILTIN_TOOLS)
      out.emplace_back (tool.name);
    return out;
  } ();
  return names;
}

bool
is_builtin_tool (const std::string & name)
{
  return find_builtin (name) != nullptr;
}

bool
is_tool_name (const std::string & name)
{
  return !name.empty () && name.size () <= 64
      && std::all_of (name.begin (), name.end (), [] (char c) {
           return g_ascii_isalnum (c) || c == '_' || c == '-';
         });
}

std::string
route_tools_json (const DeploymentConfig & config, const Route & route)
{
  if (route.tools.empty ())
    return "";
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (const std::string & name : route.tools) {
    if (const BuiltinTool *builtin = find_builtin (name)) {
      add_function (builder, name, builtin->description, builtin->parameters);
    } else {
      auto it = config.tools.find (name);
      if (it != config.tools.end ())
        add_function (builder, name, it->second.description, it->second.parameters_json);
    }
  }
  json_builder_end_array (builder);
  return json_builder_take_text (builder);
}

}  // namespace voxbridge::launcher
