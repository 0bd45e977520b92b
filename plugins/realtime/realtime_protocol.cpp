/* Realtime API (GA) event encoding and decoding with json-glib. */
#include "realtime_protocol.h"

#include <json-glib/json-glib.h>

#include <memory>
#include <string_view>

#include "json_string_lift.h"

namespace voxbridge::realtime {

namespace {

/* Shorter "delta" strings (transcript text) are left to json-glib. */
constexpr gsize kLiftMinLength = 64;

struct JsonBuilderDeleter { void operator() (JsonBuilder * b) const { g_object_unref (b); } };
struct JsonNodeDeleter { void operator() (JsonNode * n) const { json_node_unref (n); } };
struct JsonParserDeleter { void operator() (JsonParser * p) const { g_object_unref (p); } };

std::string
to_json_text (JsonBuilder * builder)
{
  std::unique_ptr<JsonNode, JsonNodeDeleter> root (json_builder_get_root (builder));
  gchar *text = json_to_string (root.get (), FALSE);
  std::string out (text);
  g_free (text);
  return out;
}

/* Starts {"type": type, "event_id": id, ... ; the caller closes the object. */
std::unique_ptr<JsonBuilder, JsonBuilderDeleter>
begin_event (const char *type, const std::string & event_id)
{
  std::unique_ptr<JsonBuilder, JsonBuilderDeleter> b (json_builder_new ());
  json_builder_begin_object (b.get ());
  if (!event_id.empty ()) {
    json_builder_set_member_name (b.get (), "event_id");
    json_builder_add_string_value (b.get (), event_id.c_str ());
  }
  json_builder_set_member_name (b.get (), "type");
  json_builder_add_string_value (b.get (), type);
  return b;
}

void
add_string (JsonBuilder * b, const char *name, const std::string & value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value.c_str ());
}

void
add_audio_format (JsonBuilder * b, AudioFormat format)
{
  json_builder_set_member_name (b, "format");
  json_builder_begin_object (b);
  add_string (b, "type", audio_format_type (format));
  if (format == AudioFormat::kPcm24k) {
    json_builder_set_member_name (b, "rate");
    json_builder_add_int_value (b, 24000);
  }
  json_builder_end_object (b);
}

void
add_turn_detection (JsonBuilder * b, const TurnDetection & td)
{
  json_builder_set_member_name (b, "turn_detection");
  if (td.type == TurnDetectionType::kNone) {
    json_builder_add_null_value (b);
    return;
  }
  json_builder_begin_object (b);
  if (td.type == TurnDetectionType::kServerVad) {
    add_string (b, "type", "server_vad");
    json_builder_set_member_name (b, "threshold");
    json_builder_add_double_value (b, td.threshold);
    json_builder_set_member_name (b, "prefix_padding_ms");
    json_builder_add_int_value (b, td.prefix_padding_ms);
    json_builder_set_member_name (b, "silence_duration_ms");
    json_builder_add_int_value (b, td.silence_duration_ms);
  } else {
    add_string (b, "type", "semantic_vad");
    add_string (b, "eagerness", td.eagerness);
  }
  json_builder_set_member_name (b, "create_response");
  json_builder_add_boolean_value (b, td.create_response);
  json_builder_set_member_name (b, "interrupt_response");
  json_builder_add_boolean_value (b, td.interrupt_response);
  json_builder_end_object (b);
}

/* Parses @text as JSON; returns the root node or nullptr with @error set. */
JsonNode *
parse_json (const char *text, gssize length, std::string * error)
{
  /* Mutable: an immutable parser seals every node, hashing every string
   * of every message. One per thread, kept: creating and disposing of the
   * GObject was a sixth of the parse of an audio delta. */
  static thread_local std::unique_ptr<JsonParser, JsonParserDeleter> parser (json_parser_new ());
  GError *err = nullptr;
  if (!json_parser_load_from_data (parser.get (), text, length, &err)) {
    if (error)
      *error = err->message;
    g_error_free (err);
    return nullptr;
  }
  JsonNode *root = json_parser_get_root (parser.get ());
  return root ? json_node_ref (root) : nullptr;
}

std::string
get_string (JsonObject * obj, const char *name)
{
  if (!obj || !json_object_has_member (obj, name))
    return {};
  JsonNode *node = json_object_get_member (obj, name);
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return {};
}

gint64
get_int (JsonObject * obj, const char *name, gint64 fallback)
{
  if (!obj || !json_object_has_member (obj, name))
    return fallback;
  JsonNode *node = json_object_get_member (obj, name);
  if (!JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_INT64)
    return json_node_get_int (node);
  if (t == G_TYPE_DOUBLE) {
    /* A cast of a double out of gint64's range (or NaN) is undefined. */
    const double d = json_node_get_double (node);
    if (!(d >= -9.2e18 && d <= 9.2e18))
      return fallback;
    return (gint64) d;
  }
  return fallback;
}

double
get_double (JsonObject * obj, const char *name)
{
  if (!obj || !json_object_has_member (obj, name))
    return 0;
  JsonNode *node = json_object_get_member (obj, name);
  if (!JSON_NODE_HOLDS_VALUE (node))
    return 0;
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  if (t == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  return 0;
}

JsonObject *
get_object (JsonObject * obj, const char *name)
{
  if (!obj || !json_object_has_member (obj, name))
    return nullptr;
  JsonNode *node = json_object_get_member (obj, name);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : nullptr;
}

struct TypeName {
  const char *name;
  ServerEventType type;
};

const TypeName kServerEventTypes[] = {
  {"session.created", ServerEventType::kSessionCreated},
  {"session.updated", ServerEventType::kSessionUpdated},
  {"input_audio_buffer.speech_started", ServerEventType::kSpeechStarted},
  {"input_audio_buffer.speech_stopped", ServerEventType::kSpeechStopped},
  {"input_audio_buffer.committed", ServerEventType::kInputCommitted},
  {"response.created", ServerEventType::kResponseCreated},
  {"response.done", ServerEventType::kResponseDone},
  {"response.output_audio.delta", ServerEventType::kOutputAudioDelta},
  {"response.output_audio.done", ServerEventType::kOutputAudioDone},
  {"response.output_audio_transcript.delta", ServerEventType::kOutputAudioTranscriptDelta},
  {"response.output_audio_transcript.done", ServerEventType::kOutputAudioTranscriptDone},
  {"response.output_text.delta", ServerEventType::kOutputTextDelta},
  {"response.output_text.done", ServerEventType::kOutputTextDone},
  {"conversation.item.input_audio_transcription.delta", ServerEventType::kInputTranscriptionDelta},
  {"conversation.item.input_audio_transcription.completed", ServerEventType::kInputTranscriptionCompleted},
  {"conversation.item.input_audio_transcription.failed", ServerEventType::kInputTranscriptionFailed},
  {"response.function_call_arguments.done", ServerEventType::kFunctionCallArgumentsDone},
  {"conversation.item.truncated", ServerEventType::kItemTruncated},
  {"rate_limits.updated", ServerEventType::kRateLimitsUpdated},
  {"error", ServerEventType::kError},
};

}  // namespace

AudioFormat
audio_format_from_media_type (const char *media_type)
{
  if (g_strcmp0 (media_type, "audio/x-mulaw") == 0)
    return AudioFormat::kPcmu;
  if (g_strcmp0 (media_type, "audio/x-alaw") == 0)
    return AudioFormat::kPcma;
  return AudioFormat::kPcm24k;
}

const char *
audio_format_type (AudioFormat format)
{
  switch (format) {
    case AudioFormat::kPcmu: return "audio/pcmu";
    case AudioFormat::kPcma: return "audio/pcma";
    case AudioFormat::kPcm24k: break;
  }
  return "audio/pcm";
}

guint
audio_format_bytes_per_ms (AudioFormat format)
{
  return format == AudioFormat::kPcm24k ? 48 : 8;
}

guint8
audio_format_silence_byte (AudioFormat format)
{
  switch (format) {
    case AudioFormat::kPcmu: return 0xff;
    case AudioFormat::kPcma: return 0xd5;
    case AudioFormat::kPcm24k: break;
  }
  return 0;
}

bool
validate_tools_json (const std::string & tools_json, std::string * error)
{
  std::string parse_error;
  std::unique_ptr<JsonNode, JsonNodeDeleter> root (
      parse_json (tools_json.c_str (), tools_json.size (), &parse_error));
  if (!root) {
    *error = "tools is not valid JSON: " + parse_error;
    return false;
  }
  if (!JSON_NODE_HOLDS_ARRAY (root.get ())) {
    *error = "tools must be a JSON array of tool objects";
    return false;
  }
  JsonArray *arr = json_node_get_array (root.get ());
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *el = json_array_get_element (arr, i);
    if (!JSON_NODE_HOLDS_OBJECT (el) || get_string (json_node_get_object (el), "name").empty ()) {
      *error = "tools[" + std::to_string (i) + "] must be an object with a \"name\"";
      return false;
    }
  }
  return true;
}

std::string
encode_session_update (const SessionOptions & o, const std::string & event_id)
{
  auto b = begin_event ("session.update", event_id);
  JsonBuilder *jb = b.get ();
  json_builder_set_member_name (jb, "session");
  json_builder_begin_object (jb);
  add_string (jb, "type", "realtime");
  if (!o.instructions.empty ())
    add_string (jb, "instructions", o.instructions);
  json_builder_set_member_name (jb, "output_modalities");
  json_builder_begin_array (jb);
  json_builder_add_string_value (jb, o.output_audio ? "audio" : "text");
  json_builder_end_array (jb);

  json_builder_set_member_name (jb, "audio");
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "input");
  json_builder_begin_object (jb);
  add_audio_format (jb, o.input_format);
  json_builder_set_member_name (jb, "transcription");
  if (o.transcription_model.empty ()) {
    json_builder_add_null_value (jb);
  } else {
    json_builder_begin_object (jb);
    add_string (jb, "model", o.transcription_model);
    if (!o.transcription_language.empty ())
      add_string (jb, "language", o.transcription_language);
    json_builder_end_object (jb);
  }
  add_turn_detection (jb, o.turn_detection);
  json_builder_set_member_name (jb, "noise_reduction");
  if (o.noise_reduction == NoiseReduction::kNone) {
    json_builder_add_null_value (jb);
  } else {
    json_builder_begin_object (jb);
    add_string (jb, "type",
        o.noise_reduction == NoiseReduction::kNearField ? "near_field" : "far_field");
    json_builder_end_object (jb);
  }
  json_builder_end_object (jb);     /* input */
  json_builder_set_member_name (jb, "output");
  json_builder_begin_object (jb);
  add_audio_format (jb, o.output_format);
  if (!o.voice.empty ())
    add_string (jb, "voice", o.voice);
  json_builder_end_object (jb);     /* output */
  json_builder_end_object (jb);     /* audio */

  if (!o.tools_json.empty ()) {
    std::unique_ptr<JsonNode, JsonNodeDeleter> tools (
        parse_json (o.tools_json.c_str (), o.tools_json.size (), nullptr));
    if (tools && JSON_NODE_HOLDS_ARRAY (tools.get ())) {
      json_builder_set_member_name (jb, "tools");
      json_builder_add_value (jb, json_node_copy (tools.get ()));
      add_string (jb, "tool_choice", "auto");
    }
  }
  json_builder_end_object (jb);     /* session */
  json_builder_end_object (jb);
  return to_json_text (jb);
}

std::string
encode_input_audio_append (const guint8 * audio, gsize size)
{
  static const char kHead[] = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";
  static const char kTail[] = "\"}";
  /* Base64 needs 4 bytes per 3, plus the state flush; encode straight into
   * the string's storage instead of a temporary. */
  std::string out;
  out.resize (sizeof (kHead) - 1 + (size / 3 + 2) * 4 + 4 + sizeof (kTail) - 1);
  memcpy (&out[0], kHead, sizeof (kHead) - 1);
  gsize pos = sizeof (kHead) - 1;
  gint state = 0, save = 0;
  pos += g_base64_encode_step (audio, size, FALSE, &out[pos], &state, &save);
  pos += g_base64_encode_close (FALSE, &out[pos], &state, &save);
  memcpy (&out[pos], kTail, sizeof (kTail) - 1);
  pos += sizeof (kTail) - 1;
  out.resize (pos);
  return out;
}

std::string
encode_input_audio_commit (const std::string & event_id)
{
  auto b = begin_event ("input_audio_buffer.commit", event_id);
  json_builder_end_object (b.get ());
  return to_json_text (b.get ());
}

std::string
encode_response_create (const std::string & event_id)
{
  auto b = begin_event ("response.create", event_id);
  json_builder_end_object (b.get ());
  return to_json_text (b.get ());
}

std::string
encode_response_cancel (const std::string & event_id)
{
  auto b = begin_event ("response.cancel", event_id);
  json_builder_end_object (b.get ());
  return to_json_text (b.get ());
}

std::string
encode_item_truncate (const std::string & item_id, guint content_index,
    guint64 audio_end_ms, const std::string & event_id)
{
  auto b = begin_event ("conversation.item.truncate", event_id);
  add_string (b.get (), "item_id", item_id);
  json_builder_set_member_name (b.get (), "content_index");
  json_builder_add_int_value (b.get (), content_index);
  json_builder_set_member_name (b.get (), "audio_end_ms");
  json_builder_add_int_value (b.get (), (gint64) audio_end_ms);
  json_builder_end_object (b.get ());
  return to_json_text (b.get ());
}

std::string
encode_function_call_output (const std::string & call_id, const std::string & output,
    const std::string & event_id)
{
  auto b = begin_event ("conversation.item.create", event_id);
  JsonBuilder *jb = b.get ();
  json_builder_set_member_name (jb, "item");
  json_builder_begin_object (jb);
  add_string (jb, "type", "function_call_output");
  add_string (jb, "call_id", call_id);
  add_string (jb, "output", output);
  json_builder_end_object (jb);
  json_builder_end_object (jb);
  return to_json_text (jb);
}

std::string
encode_user_text (const std::string & text, const std::string & event_id)
{
  auto b = begin_event ("conversation.item.create", event_id);
  JsonBuilder *jb = b.get ();
  json_builder_set_member_name (jb, "item");
  json_builder_begin_object (jb);
  add_string (jb, "type", "message");
  add_string (jb, "role", "user");
  json_builder_set_member_name (jb, "content");
  json_builder_begin_array (jb);
  json_builder_begin_object (jb);
  add_string (jb, "type", "input_text");
  add_string (jb, "text", text);
  json_builder_end_object (jb);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  json_builder_end_object (jb);
  return to_json_text (jb);
}

std::string
encode_text_response_create (const std::string & instructions, const std::string & tag,
    const std::string & event_id)
{
  auto b = begin_event ("response.create", event_id);
  JsonBuilder *jb = b.get ();
  json_builder_set_member_name (jb, "response");
  json_builder_begin_object (jb);
  add_string (jb, "conversation", "none");
  json_builder_set_member_name (jb, "output_modalities");
  json_builder_begin_array (jb);
  json_builder_add_string_value (jb, "text");
  json_builder_end_array (jb);
  add_string (jb, "instructions", instructions);
  json_builder_set_member_name (jb, "metadata");
  json_builder_begin_object (jb);
  add_string (jb, "voxbridge_tag", tag);
  json_builder_end_object (jb);
  json_builder_end_object (jb);
  json_builder_end_object (jb);
  return to_json_text (jb);
}

std::optional<ServerEvent>
decode_server_event (const char *text, gsize length, std::string * error)
{
  /* An audio delta's base64 is read from the message itself (see
   * json_string_lift.h); short strings are not worth it. */
  std::string_view lifted_delta;
  std::string rest;
  if (lift_json_string_member (text, length, "delta", kLiftMinLength, &lifted_delta, &rest)) {
    text = rest.c_str ();
    length = rest.size ();
  }
  std::string parse_error;
  std::unique_ptr<JsonNode, JsonNodeDeleter> root (parse_json (text, length, &parse_error));
  if (!root) {
    *error = "not JSON: " + parse_error;
    return std::nullopt;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root.get ())) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  JsonObject *obj = json_node_get_object (root.get ());
  ServerEvent ev;
  ev.type_name = get_string (obj, "type");
  if (ev.type_name.empty ()) {
    *error = "event has no \"type\"";
    return std::nullopt;
  }
  for (const auto & entry : kServerEventTypes) {
    if (ev.type_name == entry.name) {
      ev.type = entry.type;
      break;
    }
  }
  /* A second "delta" member json-glib read wins, as without the lift. */
  auto delta_string = [obj, lifted_delta] () {
    std::string parsed = get_string (obj, "delta");
    return parsed.empty () ? std::string (lifted_delta) : parsed;
  };
  ev.event_id = get_string (obj, "event_id");
  ev.response_id = get_string (obj, "response_id");
  ev.item_id = get_string (obj, "item_id");
  ev.previous_item_id = get_string (obj, "previous_item_id");
  /* An index out of range is not wrapped onto another one (it goes back to
   * the server in a truncate). */
  const gint64 content_index = get_int (obj, "content_index", 0);
  ev.content_index = content_index >= 0 && content_index <= G_MAXINT ? (guint) content_index : 0;

  switch (ev.type) {
    case ServerEventType::kSessionCreated:
    case ServerEventType::kSessionUpdated: {
      JsonObject *session = get_object (obj, "session");
      ev.session_id = get_string (session, "id");
      ev.model = get_string (session, "model");
      break;
    }
    case ServerEventType::kSpeechStarted:
      ev.audio_start_ms = (guint64) MAX (get_int (obj, "audio_start_ms", 0), 0);
      break;
    case ServerEventType::kSpeechStopped:
    case ServerEventType::kItemTruncated:
      ev.audio_end_ms = (guint64) MAX (get_int (obj, "audio_end_ms", 0), 0);
      break;
    case ServerEventType::kResponseCreated:
    case ServerEventType::kResponseDone: {
      JsonObject *response = get_object (obj, "response");
      ev.response_id = get_string (response, "id");
      ev.response_tag = get_string (get_object (response, "metadata"), "voxbridge_tag");
      ev.status = get_string (response, "status");
      JsonObject *details = get_object (response, "status_details");
      ev.status_reason = get_string (details, "reason");
      JsonObject *usage = get_object (response, "usage");
      ev.input_tokens = get_int (usage, "input_tokens", -1);
      ev.output_tokens = get_int (usage, "output_tokens", -1);
      ev.total_tokens = get_int (usage, "total_tokens", -1);
      break;
    }
    case ServerEventType::kOutputAudioDelta: {
      const std::string parsed = get_string (obj, "delta");
      const std::string_view delta = parsed.empty () ? lifted_delta : std::string_view (parsed);
      /* Decoded straight into the event's buffer. */
      ev.audio.resize (delta.size () / 4 * 3 + 3);
      gint state = 0;
      guint save = 0;
      ev.audio.resize (g_base64_decode_step (delta.data (), delta.size (), ev.audio.data (),
              &state, &save));
      break;
    }
    case ServerEventType::kOutputAudioTranscriptDelta:
    case ServerEventType::kOutputTextDelta:
    case ServerEventType::kInputTranscriptionDelta:
      ev.text = delta_string ();
      break;
    case ServerEventType::kOutputAudioTranscriptDone:
    case ServerEventType::kInputTranscriptionCompleted:
      ev.text = get_string (obj, "transcript");
      break;
    case ServerEventType::kOutputTextDone:
      ev.text = get_string (obj, "text");
      break;
    case ServerEventType::kFunctionCallArgumentsDone:
      ev.call_id = get_string (obj, "call_id");
      ev.name = get_string (obj, "name");
      ev.arguments = get_string (obj, "arguments");
      break;
    case ServerEventType::kRateLimitsUpdated: {
      JsonNode *limits = json_object_get_member (obj, "rate_limits");
      if (limits && JSON_NODE_HOLDS_ARRAY (limits)) {
        JsonArray *arr = json_node_get_array (limits);
        for (guint i = 0; i < json_array_get_length (arr); i++) {
          JsonNode *el = json_array_get_element (arr, i);
          if (!JSON_NODE_HOLDS_OBJECT (el))
            continue;
          JsonObject *l = json_node_get_object (el);
          ev.rate_limits.push_back ({get_string (l, "name"), get_int (l, "limit", 0),
                get_int (l, "remaining", 0), get_double (l, "reset_seconds")});
        }
      }
      break;
    }
    case ServerEventType::kError:
    case ServerEventType::kInputTranscriptionFailed: {
      JsonObject *err = get_object (obj, "error");
      ev.error_type = get_string (err, "type");
      ev.error_code = get_string (err, "code");
      ev.error_message = get_string (err, "message");
      ev.error_param = get_string (err, "param");
      ev.error_event_id = get_string (err, "event_id");
      break;
    }
    case ServerEventType::kOutputAudioDone:
    case ServerEventType::kInputCommitted:
    case ServerEventType::kOther:
      break;
  }
  return ev;
}

}  // namespace voxbridge::realtime
