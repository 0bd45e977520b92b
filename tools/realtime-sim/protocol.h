#pragma once

/* Small JSON helpers shared by the protocol code: ids, event envelopes,
 * typed member access with protocol errors, and parsing of client events. */

#include <memory>
#include <optional>
#include <string>

#include <json-glib/json-glib.h>

namespace voxbridge::sim {

struct JsonNodeUnref {
  void operator() (JsonNode *node) const { json_node_unref (node); }
};
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

struct JsonObjectUnref {
  void operator() (JsonObject *obj) const { json_object_unref (obj); }
};
using JsonObjectPtr = std::unique_ptr<JsonObject, JsonObjectUnref>;

/* "<prefix>_" + 22 random alphanumerics, like the service's ids. */
std::string new_id (const char *prefix);

std::string json_to_compact_string (JsonNode *node);
JsonNode *node_from_object (JsonObject *obj);      /* takes @obj */
JsonNode *node_from_array (JsonArray *array);      /* takes @array */
JsonNode *string_or_null (const std::optional<std::string> &value);

/* A protocol error as reported in a server "error" event. */
struct ProtocolError {
  std::string code;
  std::string message;
  std::string param;  /* empty → null */
};

/* {"type":"error","event_id":...,"error":{type,code,message,param,event_id}} */
JsonObject *make_error_event (const ProtocolError &error,
    const std::optional<std::string> &client_event_id);

/* A parsed client event: the root object plus its type and event_id. */
struct ClientEvent {
  JsonNodePtr root;
  JsonObject *object = nullptr;  /* owned by root */
  std::string type;
  std::optional<std::string> event_id;
};

/* Fails (with an error fit for the client) on bad JSON, a non-object root, a
 * missing or non-string "type", or a non-string "event_id". @event_id is set
 * whenever one could be read, so even a rejected event's error can carry it. */
bool parse_client_event (const char *data, size_t len, ClientEvent *out,
    ProtocolError *error);

/* Typed member access: false + error (with @param_path as param) when the
 * member is missing (if required) or of the wrong type. */
bool get_string (JsonObject *obj, const char *member, const std::string &param_path,
    bool required, std::optional<std::string> *out, ProtocolError *error);
bool get_int (JsonObject *obj, const char *member, const std::string &param_path,
    bool required, std::optional<int64_t> *out, ProtocolError *error);
bool get_number (JsonObject *obj, const char *member, const std::string &param_path,
    bool required, std::optional<double> *out, ProtocolError *error);
bool get_bool (JsonObject *obj, const char *member, const std::string &param_path,
    bool required, std::optional<bool> *out, ProtocolError *error);
/* @out is NULL when the member is absent; JSON null is reported via @is_null. */
bool get_object (JsonObject *obj, const char *member, const std::string &param_path,
    bool required, JsonObject **out, bool *is_null, ProtocolError *error);

ProtocolError missing_parameter (const std::string &param_path);
ProtocolError invalid_type (const std::string &param_path, const char *expected);
ProtocolError invalid_value (const std::string &param_path, const std::string &message);

}  // namespace voxbridge::sim
