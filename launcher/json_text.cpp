/* Small json-glib helpers shared by the launcher's JSON writers. */
#include "json_text.h"

#include <cmath>

namespace voxbridge::launcher {

void
json_add_string_member (JsonBuilder * builder, const std::string & key, const std::string & value)
{
  gchar *valid = g_utf8_make_valid (value.c_str (), value.size ());
  json_builder_set_member_name (builder, key.c_str ());
  json_builder_add_string_value (builder, valid);
  g_free (valid);
}

bool
json_has_non_finite (JsonNode * node)
{
  if (node == nullptr)
    return false;
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) == G_TYPE_DOUBLE
          && !std::isfinite (json_node_get_double (node));
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++) {
        if (json_has_non_finite (json_array_get_element (array, i)))
          return true;
      }
      return false;
    }
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      const gchar *name;
      JsonNode *member;
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member)) {
        if (json_has_non_finite (member))
          return true;
      }
      return false;
    }
    case JSON_NODE_NULL:
      break;
  }
  return false;
}

std::string
json_builder_take_text (JsonBuilder * builder)
{
  JsonNode *root = json_builder_get_root (builder);
  gchar *text = json_to_string (root, FALSE);
  std::string out (text);
  g_free (text);
  json_node_unref (root);
  g_object_unref (builder);
  return out;
}

}  // namespace voxbridge::launcher
