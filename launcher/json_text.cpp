/* Small json-glib helpers shared by the launcher's JSON writers. */
#include "json_text.h"

namespace voxbridge::launcher {

void
json_add_string_member (JsonBuilder * builder, const std::string & key, const std::string & value)
{
  gchar *valid = g_utf8_make_valid (value.c_str (), value.size ());
  json_builder_set_member_name (builder, key.c_str ());
  json_builder_add_string_value (builder, valid);
  g_free (valid);
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
