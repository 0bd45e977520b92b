#include "session_config.h"

#include <algorithm>
#include <array>

namespace voxbridge::sim {

static const std::array<const char *, 10> kVoices = {
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"};

int
TurnDetection::effective_silence_ms () const
{
  if (type != Type::kSemanticVad)
    return silence_duration_ms;
  /* The real semantic VAD waits longer for "low" eagerness; mimic with silence. */
  if (eagerness == "low")
    return 1500;
  if (eagerness == "high")
    return 300;
  return 800;  /* medium, auto */
}

static JsonNode *
string_node (const char *value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, value);
  return node;
}

SessionConfig::SessionConfig ()
    : tools (node_from_array (json_array_new ())),
      tool_choice (string_node ("auto")),
      max_output_tokens (string_node ("inf"))
{
}

SessionConfig::SessionConfig (const SessionConfig &other)
    : id (other.id),
      model (other.model),
      instructions (other.instructions),
      text_output (other.text_output),
      input_format (other.input_format),
      output_format (other.output_format),
      voice (other.voice),
      speed (other.speed),
      turn_detection (other.turn_detection),
      transcription_model (other.transcription_model),
      transcription_language (other.transcription_language),
      noise_reduction (other.noise_reduction),
      tools (json_node_copy (other.tools.get ())),
      tool_choice (json_node_copy (other.tool_choice.get ())),
      max_output_tokens (json_node_copy (other.max_output_tokens.get ()))
{
}

SessionConfig &
SessionConfig::operator= (const SessionConfig &other)
{
  if (this != &other) {
    SessionConfig copy (other);
    id = std::move (copy.id);
    model = std::move (copy.model);
    instructions = std::move (copy.instructions);
    text_output = copy.text_output;
    input_format = copy.input_format;
    output_format = copy.output_format;
    voice = std::move (copy.voice);
    speed = copy.speed;
    turn_detection = copy.turn_detection;
    transcription_model = std::move (copy.transcription_model);
    transcription_language = std::move (copy.transcription_language);
    noise_reduction = std::move (copy.noise_reduction);
    tools = std::move (copy.tools);
    tool_choice = std::move (copy.tool_choice);
    max_output_tokens = std::move (copy.max_output_tokens);
  }
  return *this;
}

/* Rejects members the service does not know, like its "Unknown parameter". */
static bool
check_known_members (JsonObject *obj, const std::string &path,
    std::initializer_list<const char *> known, ProtocolError *error)
{
  GList *members = json_object_get_members (obj);
  bool ok = true;
  for (GList *l = members; l && ok; l = l->next) {
    const char *name = static_cast<const char *> (l->data);
    if (std::none_of (known.begin (), known.end (),
            [name] (const char *k) { return g_strcmp0 (k, name) == 0; })) {
      std::string param = path + "." + name;
      *error = {"unknown_parameter", "Unknown parameter: '" + param + "'.", param};
      ok = false;
    }
  }
  g_list_free (members);
  return ok;
}

static bool
parse_format (JsonObject *parent, const std::string &path, AudioFormat *format,
    ProtocolError *error)
{
  JsonObject *obj;
  if (!get_object (parent, "format", path + ".format", false, &obj, nullptr, error))
    return false;
  if (!obj)
    return true;
  std::string member, message;
  if (!audio_format_from_json (obj, format, &member, &message)) {
    *error = invalid_value (path + ".format." + member, message);
    return false;
  }
  return true;
}

static bool
parse_turn_detection (JsonObject *input, TurnDetection *td, ProtocolError *error)
{
  const std::string path = "session.audio.input.turn_detection";
  bool is_null;
  JsonObject *obj;
  if (!get_object (input, "turn_detection", path, false, &obj, &is_null, error))
    return false;
  if (is_null) {
    td->type = TurnDetection::Type::kNone;
    return true;
  }
  if (!obj)
    return true;
  if (!check_known_members (obj, path, {"type", "threshold", "prefix_padding_ms",
              "silence_duration_ms", "create_response", "interrupt_response", "eagerness",
              "idle_timeout_ms"}, error))
    return false;

  std::optional<std::string> type;
  if (!get_string (obj, "type", path + ".type", true, &type, error))
    return false;
  TurnDetection out;  /* an update replaces turn_detection as a whole */
  if (*type == "server_vad")
    out.type = TurnDetection::Type::kServerVad;
  else if (*type == "semantic_vad")
    out.type = TurnDetection::Type::kSemanticVad;
  else {
    *error = invalid_value (path + ".type", "Invalid value: '" + *type +
        "'. Supported values are: 'server_vad' and 'semantic_vad'.");
    return false;
  }

  std::optional<double> threshold;
  std::optional<int64_t> padding, silence, idle;
  std::optional<bool> create, interrupt;
  std::optional<std::string> eagerness;
  if (!get_number (obj, "threshold", path + ".threshold", false, &threshold, error) ||
      !get_int (obj, "prefix_padding_ms", path + ".prefix_padding_ms", false, &padding, error) ||
      !get_int (obj, "silence_duration_ms", path + ".silence_duration_ms", false, &silence,
          error) ||
      !get_bool (obj, "create_response", path + ".create_response", false, &create, error) ||
      !get_bool (obj, "interrupt_response", path + ".interrupt_response", false, &interrupt,
          error) ||
      !get_string (obj, "eagerness", path + ".eagerness", false, &eagerness, error))
    return false;
  JsonNode *idle_node = json_object_get_member (obj, "idle_timeout_ms");
  if (idle_node && !JSON_NODE_HOLDS_NULL (idle_node) &&
      !get_int (obj, "idle_timeout_ms", path + ".idle_timeout_ms", false, &idle, error))
    return false;

  bool server = out.type == TurnDetection::Type::kServerVad;
  if (!server && (threshold || padding || silence)) {
    std::string which = threshold ? "threshold" : padding ? "prefix_padding_ms"
                                                          : "silence_duration_ms";
    *error = {"unknown_parameter", "Unknown parameter: '" + path + "." + which + "'.",
        path + "." + which};
    return false;
  }
  if (server && eagerness) {
    *error = {"unknown_parameter", "Unknown parameter: '" + path + ".eagerness'.",
        path + ".eagerness"};
    return false;
  }
  if (threshold && (*threshold < 0.0 || *threshold > 1.0)) {
    *error = invalid_value (path + ".threshold",
        "Invalid 'threshold': must be between 0.0 and 1.0.");
    return false;
  }
  if (padding && (*padding < 0 || *padding > 10000)) {
    *error = invalid_value (path + ".prefix_padding_ms",
        "Invalid 'prefix_padding_ms': must be between 0 and 10000.");
    return false;
  }
  if (silence && (*silence < 0 || *silence > 10000)) {
    *error = invalid_value (path + ".silence_duration_ms",
        "Invalid 'silence_duration_ms': must be between 0 and 10000.");
    return false;
  }
  if (eagerness && *eagerness != "low" && *eagerness != "medium" && *eagerness != "high" &&
      *eagerness != "auto") {
    *error = invalid_value (path + ".eagerness", "Invalid value: '" + *eagerness +
        "'. Supported values are: 'low', 'medium', 'high', and 'auto'.");
    return false;
  }
  if (threshold)
    out.threshold = *threshold;
  if (padding)
    out.prefix_padding_ms = static_cast<int> (*padding);
  if (silence)
    out.silence_duration_ms = static_cast<int> (*silence);
  if (create)
    out.create_response = *create;
  if (interrupt)
    out.interrupt_response = *interrupt;
  if (eagerness)
    out.eagerness = *eagerness;
  out.idle_timeout_ms = idle;
  *td = out;
  return true;
}

static bool
parse_input (JsonObject *audio, SessionConfig *cfg, ProtocolError *error)
{
  const std::string path = "session.audio.input";
  JsonObject *input;
  if (!get_object (audio, "input", path, false, &input, nullptr, error))
    return false;
  if (!input)
    return true;
  if (!check_known_members (input, path, {"format", "transcription", "turn_detection",
              "noise_reduction"}, error))
    return false;
  if (!parse_format (input, path, &cfg->input_format, error) ||
      !parse_turn_detection (input, &cfg->turn_detection, error))
    return false;

  bool is_null;
  JsonObject *transcription;
  if (!get_object (input, "transcription", path + ".transcription", false, &transcription,
          &is_null, error))
    return false;
  if (is_null) {
    cfg->transcription_model.reset ();
    cfg->transcription_language.reset ();
  } else if (transcription) {
    std::optional<std::string> model, language, prompt;
    if (!check_known_members (transcription, path + ".transcription",
            {"model", "language", "prompt"}, error) ||
        !get_string (transcription, "model", path + ".transcription.model", true, &model,
            error) ||
        !get_string (transcription, "language", path + ".transcription.language", false,
            &language, error) ||
        !get_string (transcription, "prompt", path + ".transcription.prompt", false, &prompt,
            error))
      return false;
    cfg->transcription_model = model;
    cfg->transcription_language = language;
  }

  JsonObject *noise;
  if (!get_object (input, "noise_reduction", path + ".noise_reduction", false, &noise,
          &is_null, error))
    return false;
  if (is_null) {
    cfg->noise_reduction.reset ();
  } else if (noise) {
    std::optional<std::string> type;
    if (!get_string (noise, "type", path + ".noise_reduction.type", true, &type, error))
      return false;
    if (*type != "near_field" && *type != "far_field") {
      *error = invalid_value (path + ".noise_reduction.type", "Invalid value: '" + *type +
          "'. Supported values are: 'near_field' and 'far_field'.");
      return false;
    }
    cfg->noise_reduction = type;
  }
  return true;
}

static bool
parse_output (JsonObject *audio, SessionConfig *cfg, ProtocolError *error)
{
  const std::string path = "session.audio.output";
  JsonObject *output;
  if (!get_object (audio, "output", path, false, &output, nullptr, error))
    return false;
  if (!output)
    return true;
  if (!check_known_members (output, path, {"format", "voice", "speed"}, error) ||
      !parse_format (output, path, &cfg->output_format, error))
    return false;
  std::optional<std::string> voice;
  std::optional<double> speed;
  if (!get_string (output, "voice", path + ".voice", false, &voice, error) ||
      !get_number (output, "speed", path + ".speed", false, &speed, error))
    return false;
  if (voice) {
    if (std::none_of (kVoices.begin (), kVoices.end (),
            [&voice] (const char *v) { return *voice == v; })) {
      *error = invalid_value (path + ".voice", "Invalid value: '" + *voice +
          "'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', "
          "'shimmer', 'verse', 'marin', and 'cedar'.");
      return false;
    }
    cfg->voice = *voice;
  }
  if (speed) {
    if (*speed < 0.25 || *speed > 1.5) {
      *error = invalid_value (path + ".speed", "Invalid 'speed': must be between 0.25 and 1.5.");
      return false;
    }
    cfg->speed = *speed;
  }
  return true;
}

static bool
parse_modalities (JsonObject *session, SessionConfig *cfg, ProtocolError *error)
{
  JsonNode *node = json_object_get_member (session, "output_modalities");
  if (!node)
    return true;
  const std::string path = "session.output_modalities";
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    *error = invalid_type (path, "an array");
    return false;
  }
  JsonArray *array = json_node_get_array (node);
  if (json_array_get_length (array) == 1) {
    const char *value = json_array_get_string_element (array, 0);
    if (g_strcmp0 (value, "audio") == 0 || g_strcmp0 (value, "text") == 0) {
      cfg->text_output = g_strcmp0 (value, "text") == 0;
      return true;
    }
  }
  *error = invalid_value (path,
      "Invalid 'output_modalities': supported combinations are ['audio'] and ['text'].");
  return false;
}

static bool
parse_tools (JsonObject *session, SessionConfig *cfg, ProtocolError *error)
{
  JsonNode *tools = json_object_get_member (session, "tools");
  if (tools) {
    if (!JSON_NODE_HOLDS_ARRAY (tools)) {
      *error = invalid_type ("session.tools", "an array");
      return false;
    }
    JsonArray *array = json_node_get_array (tools);
    for (guint i = 0; i < json_array_get_length (array); i++) {
      std::string path = "session.tools[" + std::to_string (i) + "]";
      JsonNode *tool = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_OBJECT (tool)) {
        *error = invalid_type (path, "an object");
        return false;
      }
      std::optional<std::string> type, name;
      JsonObject *obj = json_node_get_object (tool);
      if (!get_string (obj, "type", path + ".type", true, &type, error) ||
          !get_string (obj, "name", path + ".name", true, &name, error))
        return false;
      if (*type != "function") {
        *error = invalid_value (path + ".type", "Invalid value: '" + *type +
            "'. Supported values are: 'function'.");
        return false;
      }
    }
    cfg->tools.reset (json_node_copy (tools));
  }

  JsonNode *choice = json_object_get_member (session, "tool_choice");
  if (choice) {
    bool ok = false;
    if (JSON_NODE_HOLDS_VALUE (choice) && json_node_get_value_type (choice) == G_TYPE_STRING) {
      std::string value = json_node_get_string (choice);
      ok = value == "auto" || value == "none" || value == "required";
    } else if (JSON_NODE_HOLDS_OBJECT (choice)) {
      JsonObject *obj = json_node_get_object (choice);
      ok = g_strcmp0 (json_object_get_string_member_with_default (obj, "type", ""),
               "function") == 0 &&
          json_object_has_member (obj, "name");
    }
    if (!ok) {
      *error = invalid_value ("session.tool_choice",
          "Invalid 'tool_choice': expected 'auto', 'none', 'required' or "
          "{\"type\":\"function\",\"name\":...}.");
      return false;
    }
    cfg->tool_choice.reset (json_node_copy (choice));
  }
  return true;
}

bool
apply_session_update (SessionConfig *config, JsonObject *session, ProtocolError *error)
{
  SessionConfig cfg (*config);

  std::optional<std::string> type;
  if (!get_string (session, "type", "session.type", true, &type, error))
    return false;
  if (*type != "realtime") {
    *error = invalid_value ("session.type", "Invalid value: '" + *type +
        "'. This endpoint supports only sessions of type 'realtime'.");
    return false;
  }
  if (!check_known_members (session, "session", {"type", "model", "instructions",
              "output_modalities", "audio", "tools", "tool_choice", "max_output_tokens",
              "tracing", "truncation", "prompt", "include", "id", "object", "expires_at"},
          error))
    return false;

  std::optional<std::string> instructions;
  if (!get_string (session, "instructions", "session.instructions", false, &instructions,
          error))
    return false;
  if (instructions)
    cfg.instructions = *instructions;

  if (!parse_modalities (session, &cfg, error))
    return false;

  JsonObject *audio;
  if (!get_object (session, "audio", "session.audio", false, &audio, nullptr, error))
    return false;
  if (audio) {
    if (!check_known_members (audio, "session.audio", {"input", "output"}, error) ||
        !parse_input (audio, &cfg, error) || !parse_output (audio, &cfg, error))
      return false;
  }

  if (!parse_tools (session, &cfg, error))
    return false;

  JsonNode *max_tokens = json_object_get_member (session, "max_output_tokens");
  if (max_tokens) {
    bool is_inf = JSON_NODE_HOLDS_VALUE (max_tokens) &&
        json_node_get_value_type (max_tokens) == G_TYPE_STRING &&
        g_strcmp0 (json_node_get_string (max_tokens), "inf") == 0;
    bool is_count = JSON_NODE_HOLDS_VALUE (max_tokens) &&
        json_node_get_value_type (max_tokens) == G_TYPE_INT64 &&
        json_node_get_int (max_tokens) >= 1 && json_node_get_int (max_tokens) <= 4096;
    if (!is_inf && !is_count) {
      *error = invalid_value ("session.max_output_tokens",
          "Invalid 'max_output_tokens': expected an integer between 1 and 4096, or 'inf'.");
      return false;
    }
    cfg.max_output_tokens.reset (json_node_copy (max_tokens));
  }

  *config = cfg;
  return true;
}

static JsonNode *
turn_detection_to_json (const TurnDetection &td)
{
  if (td.type == TurnDetection::Type::kNone)
    return json_node_new (JSON_NODE_NULL);
  JsonObject *obj = json_object_new ();
  if (td.type == TurnDetection::Type::kServerVad) {
    json_object_set_string_member (obj, "type", "server_vad");
    json_object_set_double_member (obj, "threshold", td.threshold);
    json_object_set_int_member (obj, "prefix_padding_ms", td.prefix_padding_ms);
    json_object_set_int_member (obj, "silence_duration_ms", td.silence_duration_ms);
  } else {
    json_object_set_string_member (obj, "type", "semantic_vad");
    json_object_set_string_member (obj, "eagerness", td.eagerness.c_str ());
  }
  json_object_set_boolean_member (obj, "create_response", td.create_response);
  json_object_set_boolean_member (obj, "interrupt_response", td.interrupt_response);
  if (td.idle_timeout_ms)
    json_object_set_int_member (obj, "idle_timeout_ms", *td.idle_timeout_ms);
  else
    json_object_set_null_member (obj, "idle_timeout_ms");
  return node_from_object (obj);
}

JsonObject *
session_to_json (const SessionConfig &config)
{
  JsonObject *input = json_object_new ();
  json_object_set_member (input, "format", audio_format_to_json (config.input_format));
  if (config.transcription_model) {
    JsonObject *transcription = json_object_new ();
    json_object_set_string_member (transcription, "model", config.transcription_model->c_str ());
    json_object_set_member (transcription, "language",
        string_or_null (config.transcription_language));
    json_object_set_object_member (input, "transcription", transcription);
  } else {
    json_object_set_null_member (input, "transcription");
  }
  if (config.noise_reduction) {
    JsonObject *noise = json_object_new ();
    json_object_set_string_member (noise, "type", config.noise_reduction->c_str ());
    json_object_set_object_member (input, "noise_reduction", noise);
  } else {
    json_object_set_null_member (input, "noise_reduction");
  }
  json_object_set_member (input, "turn_detection", turn_detection_to_json (config.turn_detection));

  JsonObject *output = json_object_new ();
  json_object_set_member (output, "format", audio_format_to_json (config.output_format));
  json_object_set_string_member (output, "voice", config.voice.c_str ());
  json_object_set_double_member (output, "speed", config.speed);

  JsonObject *audio = json_object_new ();
  json_object_set_object_member (audio, "input", input);
  json_object_set_object_member (audio, "output", output);

  JsonArray *modalities = json_array_new ();
  json_array_add_string_element (modalities, config.text_output ? "text" : "audio");

  JsonObject *session = json_object_new ();
  json_object_set_string_member (session, "type", "realtime");
  json_object_set_string_member (session, "object", "realtime.session");
  json_object_set_string_member (session, "id", config.id.c_str ());
  json_object_set_string_member (session, "model", config.model.c_str ());
  json_object_set_array_member (session, "output_modalities", modalities);
  json_object_set_string_member (session, "instructions", config.instructions.c_str ());
  json_object_set_object_member (session, "audio", audio);
  json_object_set_member (session, "tools", json_node_copy (config.tools.get ()));
  json_object_set_member (session, "tool_choice", json_node_copy (config.tool_choice.get ()));
  json_object_set_member (session, "max_output_tokens",
      json_node_copy (config.max_output_tokens.get ()));
  json_object_set_null_member (session, "tracing");
  json_object_set_null_member (session, "prompt");
  return session;
}

}  // namespace voxbridge::sim
