#pragma once

/* The session object of the Realtime protocol: defaults, validation and
 * merging of session.update, and serialisation for session.created/updated.
 * Pure logic: no I/O. */

#include <optional>
#include <string>

#include <json-glib/json-glib.h>

#include "audio_format.h"
#include "protocol.h"

namespace voxbridge::sim {

struct TurnDetection {
  enum class Type { kNone, kServerVad, kSemanticVad };
  Type type = Type::kServerVad;
  double threshold = 0.5;
  int prefix_padding_ms = 300;
  int silence_duration_ms = 500;
  bool create_response = true;
  bool interrupt_response = true;
  std::string eagerness = "auto";  /* semantic_vad only */
  std::optional<int64_t> idle_timeout_ms;

  /* semantic_vad has no silence setting; the sim uses one per eagerness. */
  int effective_silence_ms () const;
};

struct SessionConfig {
  std::string id;
  std::string model;
  std::string instructions = "You are a helpful voice assistant.";
  bool text_output = false;  /* output_modalities ["text"] instead of ["audio"] */
  AudioFormat input_format;
  AudioFormat output_format;
  std::string voice = "alloy";
  double speed = 1.0;
  TurnDetection turn_detection;
  std::optional<std::string> transcription_model;
  std::optional<std::string> transcription_language;
  std::optional<std::string> noise_reduction;  /* near_field / far_field */
  JsonNodePtr tools;        /* array */
  JsonNodePtr tool_choice;  /* "auto" / "none" / "required" / {type:function,name} */
  JsonNodePtr max_output_tokens;  /* integer or "inf" */

  SessionConfig ();
  SessionConfig (const SessionConfig &other);
  SessionConfig &operator= (const SessionConfig &other);
};

/* Merges the "session" object of a session.update into @config. All or
 * nothing: on error @config is unchanged and @error names the param. */
bool apply_session_update (SessionConfig *config, JsonObject *session, ProtocolError *error);

/* The full session object (session.created / session.updated). */
JsonObject *session_to_json (const SessionConfig &config);

}  // namespace voxbridge::sim
