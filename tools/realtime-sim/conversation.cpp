#include "conversation.h"

#include "protocol.h"

namespace voxbridge::sim {

static JsonObject *
content_part (const char *type, const char *key, JsonNode *value)
{
  JsonObject *part = json_object_new ();
  json_object_set_string_member (part, "type", type);
  json_object_set_member (part, key, value);
  return part;
}

static JsonNode *
string_node (const std::string &value)
{
  return string_or_null (std::optional<std::string> (value));
}

JsonObject *
item_to_json (const Item &item)
{
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "id", item.id.c_str ());
  json_object_set_string_member (obj, "object", "realtime.item");

  if (item.kind == Item::Kind::kFunctionCall) {
    json_object_set_string_member (obj, "type", "function_call");
    json_object_set_string_member (obj, "status", item.status.c_str ());
    json_object_set_string_member (obj, "call_id", item.call_id.c_str ());
    json_object_set_string_member (obj, "name", item.name.c_str ());
    json_object_set_string_member (obj, "arguments", item.arguments.c_str ());
    return obj;
  }
  if (item.kind == Item::Kind::kFunctionCallOutput) {
    json_object_set_string_member (obj, "type", "function_call_output");
    json_object_set_string_member (obj, "status", item.status.c_str ());
    json_object_set_string_member (obj, "call_id", item.call_id.c_str ());
    json_object_set_string_member (obj, "output", item.text.c_str ());
    return obj;
  }

  json_object_set_string_member (obj, "type", "message");
  json_object_set_string_member (obj, "status", item.status.c_str ());
  JsonArray *content = json_array_new ();
  const char *role = "user";
  switch (item.kind) {
    case Item::Kind::kUserAudio:
      json_array_add_object_element (content,
          content_part ("input_audio", "transcript", string_or_null (item.transcript)));
      break;
    case Item::Kind::kUserText:
      json_array_add_object_element (content,
          content_part ("input_text", "text", string_node (item.text)));
      break;
    case Item::Kind::kSystemText:
      role = "system";
      json_array_add_object_element (content,
          content_part ("input_text", "text", string_node (item.text)));
      break;
    case Item::Kind::kAssistant:
      role = "assistant";
      if (item.assistant_audio)
        json_array_add_object_element (content,
            content_part ("output_audio", "transcript", string_node (item.text)));
      else
        json_array_add_object_element (content,
            content_part ("output_text", "text", string_node (item.text)));
      break;
    default:
      break;
  }
  json_object_set_string_member (obj, "role", role);
  json_object_set_array_member (obj, "content", content);
  return obj;
}

}  // namespace voxbridge::sim
