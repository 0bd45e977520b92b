/* JSON for call resources and dial requests, with json-glib. */

#include "call_json.h"

#include "call_event.h"

namespace voxbridge::launcher {

namespace {

void
add_string (JsonBuilder * builder, const char *name, const std::string & value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value.c_str ());
}

void
add_time_or_null (JsonBuilder * builder, const char *name, gint64 time_us)
{
  json_builder_set_member_name (builder, name);
  if (time_us > 0)
    json_builder_add_string_value (builder, format_event_time (time_us).c_str ());
  else
    json_builder_add_null_value (builder);
}

bool
optional_string (JsonObject * object, const char *name, std::string & out,
    std::string & error)
{
  if (!json_object_has_member (object, name))
    return true;
  JsonNode *node = json_object_get_member (object, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    error = std::string ("\"") + name + "\" must be a string";
    return false;
  }
  out = json_node_get_string (node);
  return true;
}

}  // namespace

JsonNode *
call_info_to_json (const CallInfo & call, bool details)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_string (builder, "id", call.id);
  add_string (builder, "direction", call.direction);
  add_string (builder, "state", call.state);
  add_string (builder, "from", call.from);
  add_string (builder, "to", call.to);
  add_string (builder, "route", call.route);
  add_string (builder, "codec", call.codec);
  add_time_or_null (builder, "started_at", call.started_at_us);
  add_time_or_null (builder, "answered_at", call.answered_at_us);
  if (details) {
    add_string (builder, "pipeline_state", call.pipeline_state);
    json_builder_set_member_name (builder, "headers");
    json_builder_begin_array (builder);
    for (const auto & [name, value] : call.headers) {
      json_builder_begin_object (builder);
      add_string (builder, "name", name);
      add_string (builder, "value", value);
      json_builder_end_object (builder);
    }
    json_builder_end_array (builder);
    json_builder_set_member_name (builder, "variables");
    json_builder_begin_object (builder);
    for (const auto & [name, value] : call.variables)
      add_string (builder, name.c_str (), value);
    json_builder_end_object (builder);
    json_builder_set_member_name (builder, "records");
    json_builder_begin_array (builder);
    for (const CallRecordInfo & record : call.records) {
      json_builder_begin_object (builder);
      add_string (builder, "kind", record.kind);
      add_string (builder, "path", record.path);
      add_string (builder, "format", record.format);
      add_string (builder, "state", record.state);
      json_builder_set_member_name (builder, "bytes");
      json_builder_add_int_value (builder, static_cast<gint64> (record.bytes));
      if (record.kind == "recording") {
        json_builder_set_member_name (builder, "duration_s");
        json_builder_add_double_value (builder, record.duration_s);
      } else {
        json_builder_set_member_name (builder, "lines");
        json_builder_add_int_value (builder, record.lines);
      }
      json_builder_end_object (builder);
    }
    json_builder_end_array (builder);
  }
  json_builder_end_object (builder);
  JsonNode *root = json_builder_get_root (builder);
  g_object_unref (builder);
  return root;
}

bool
parse_dial_request (const std::string & body, DialRequest & request, std::string & error)
{
  JsonParser *parser = json_parser_new ();
  GError *err = nullptr;
  bool ok = false;
  if (!json_parser_load_from_data (parser, body.data (), body.size (), &err)) {
    error = std::string ("body is not JSON: ") + err->message;
    g_clear_error (&err);
  } else if (!json_parser_get_root (parser)) {
    error = "body is empty; expected a JSON object";
  } else if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    error = "body must be a JSON object";
  } else {
    JsonObject *object = json_node_get_object (json_parser_get_root (parser));
    ok = optional_string (object, "to", request.to, error)
        && optional_string (object, "from", request.from, error)
        && optional_string (object, "route", request.route, error);
    if (ok && request.to.empty ()) {
      error = "\"to\" is required (the SIP URI or number to call)";
      ok = false;
    }
    if (ok && json_object_has_member (object, "variables")) {
      JsonNode *vars = json_object_get_member (object, "variables");
      if (!JSON_NODE_HOLDS_OBJECT (vars)) {
        error = "\"variables\" must be an object of strings";
        ok = false;
      } else {
        JsonObjectIter iter;
        const gchar *name;
        JsonNode *value;
        json_object_iter_init (&iter, json_node_get_object (vars));
        while (ok && json_object_iter_next (&iter, &name, &value)) {
          if (!JSON_NODE_HOLDS_VALUE (value)
              || json_node_get_value_type (value) != G_TYPE_STRING) {
            error = std::string ("variable \"") + name + "\" must be a string";
            ok = false;
          } else {
            request.variables[name] = json_node_get_string (value);
          }
        }
      }
    }
  }
  g_object_unref (parser);
  return ok;
}

std::string
json_node_to_text (JsonNode * node)
{
  gchar *text = json_to_string (node, FALSE);
  std::string out (text);
  g_free (text);
  return out;
}

}  // namespace voxbridge::launcher
