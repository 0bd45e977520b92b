#include "protocol.h"

#include <cmath>

namespace voxbridge::sim {

std::string
new_id (const char *prefix)
{
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id (prefix);
  id += '_';
  for (int i = 0; i < 22; i++)
    id += alphabet[g_random_int_range (0, sizeof (alphabet) - 1)];
  return id;
}

std::string
json_to_compact_string (JsonNode *node)
{
  gchar *text = json_to_string (node, FALSE);
  std::string out (text);
  g_free (text);
  return out;
}

JsonNode *
node_from_object (JsonObject *obj)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

JsonNode *
node_from_array (JsonArray *array)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

JsonNode *
string_or_null (const std::optional<std::string> &value)
{
  JsonNode *node = json_node_new (value ? JSON_NODE_VALUE : JSON_NODE_NULL);
  if (value)
    json_node_set_string (node, value->c_str ());
  return node;
}

JsonObject *
make_error_event (const ProtocolError &error, const std::optional<std::string> &client_event_id)
{
  JsonObject *detail = json_object_new ();
  json_object_set_string_member (detail, "type", "invalid_request_error");
  json_object_set_string_member (detail, "code", error.code.c_str ());
  json_object_set_string_member (detail, "message", error.message.c_str ());
  json_object_set_member (detail, "param",
      string_or_null (error.param.empty () ? std::nullopt : std::optional (error.param)));
  json_object_set_member (detail, "event_id", string_or_null (client_event_id));

  JsonObject *event = json_object_new ();
  json_object_set_string_member (event, "type", "error");
  json_object_set_object_member (event, "error", detail);
  return event;
}

static bool
holds_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* json-glib reads 1e309 as infinity; echoed back (tools, session.updated)
 * it would be written as "inf.0", which is not JSON. */
static bool
holds_non_finite (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) == G_TYPE_DOUBLE &&
          !std::isfinite (json_node_get_double (node));
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (holds_non_finite (json_array_get_element (array, i)))
          return true;
      return false;
    }
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      const gchar *name;
      JsonNode *member;
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        if (holds_non_finite (member))
          return true;
      return false;
    }
    case JSON_NODE_NULL:
      break;
  }
  return false;
}

bool
parse_client_event (const char *data, size_t len, ClientEvent *out, ProtocolError *error)
{
  JsonParser *parser = json_parser_new_immutable ();
  GError *err = nullptr;
  bool parsed = json_parser_load_from_data (parser, data, static_cast<gssize> (len), &err);
  if (!parsed) {
    *error = {"invalid_json",
        std::string ("The server could not parse the event as JSON: ") + err->message, ""};
    g_error_free (err);
    g_object_unref (parser);
    return false;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_object_unref (parser);
    *error = {"invalid_json", "The event must be a JSON object.", ""};
    return false;
  }
  out->root.reset (json_node_ref (root));
  g_object_unref (parser);
  out->object = json_node_get_object (out->root.get ());

  JsonNode *event_id = json_object_get_member (out->object, "event_id");
  if (event_id && holds_string (event_id))
    out->event_id = json_node_get_string (event_id);
  else if (event_id && !JSON_NODE_HOLDS_NULL (event_id)) {
    *error = invalid_type ("event_id", "a string");
    return false;
  }

  JsonNode *type = json_object_get_member (out->object, "type");
  if (!type) {
    *error = missing_parameter ("type");
    return false;
  }
  if (!holds_string (type)) {
    *error = invalid_type ("type", "a string");
    return false;
  }
  out->type = json_node_get_string (type);
  if (holds_non_finite (out->root.get ())) {
    *error = {"invalid_json", "The event holds a number too large to represent.", ""};
    return false;
  }
  return true;
}

ProtocolError
missing_parameter (const std::string &param_path)
{
  return {"missing_required_parameter",
      "Missing required parameter: '" + param_path + "'.", param_path};
}

ProtocolError
invalid_type (const std::string &param_path, const char *expected)
{
  return {"invalid_type",
      "Invalid type for '" + param_path + "': expected " + expected + ".", param_path};
}

ProtocolError
invalid_value (const std::string &param_path, const std::string &message)
{
  return {"invalid_value", message, param_path};
}

/* Looks @member up; true with *node=NULL when absent and not required. */
static bool
lookup (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    JsonNode **node, ProtocolError *error)
{
  *node = json_object_get_member (obj, member);
  if (!*node && required) {
    *error = missing_parameter (param_path);
    return false;
  }
  return true;
}

bool
get_string (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    std::optional<std::string> *out, ProtocolError *error)
{
  JsonNode *node;
  if (!lookup (obj, member, param_path, required, &node, error))
    return false;
  if (!node)
    return true;
  if (!holds_string (node)) {
    *error = invalid_type (param_path, "a string");
    return false;
  }
  *out = json_node_get_string (node);
  return true;
}

bool
get_int (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    std::optional<int64_t> *out, ProtocolError *error)
{
  JsonNode *node;
  if (!lookup (obj, member, param_path, required, &node, error))
    return false;
  if (!node)
    return true;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64) {
    *error = invalid_type (param_path, "an integer");
    return false;
  }
  *out = json_node_get_int (node);
  return true;
}

bool
get_number (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    std::optional<double> *out, ProtocolError *error)
{
  JsonNode *node;
  if (!lookup (obj, member, param_path, required, &node, error))
    return false;
  if (!node)
    return true;
  if (!JSON_NODE_HOLDS_VALUE (node) || (json_node_get_value_type (node) != G_TYPE_INT64 &&
          json_node_get_value_type (node) != G_TYPE_DOUBLE)) {
    *error = invalid_type (param_path, "a number");
    return false;
  }
  *out = json_node_get_double (node);
  return true;
}

bool
get_bool (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    std::optional<bool> *out, ProtocolError *error)
{
  JsonNode *node;
  if (!lookup (obj, member, param_path, required, &node, error))
    return false;
  if (!node)
    return true;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    *error = invalid_type (param_path, "a boolean");
    return false;
  }
  *out = json_node_get_boolean (node);
  return true;
}

bool
get_object (JsonObject *obj, const char *member, const std::string &param_path, bool required,
    JsonObject **out, bool *is_null, ProtocolError *error)
{
  JsonNode *node;
  *out = nullptr;
  if (is_null)
    *is_null = false;
  if (!lookup (obj, member, param_path, required, &node, error))
    return false;
  if (!node)
    return true;
  if (JSON_NODE_HOLDS_NULL (node) && is_null) {
    *is_null = true;
    return true;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    *error = invalid_type (param_path, "an object");
    return false;
  }
  *out = json_node_get_object (node);
  return true;
}

}  // namespace voxbridge::sim
