#pragma once
/* The Realtime API (GA) wire protocol as free functions: client events are
 * encoded from plain structs, server events decoded into a plain struct.
 * No I/O here, so every rule is table-tested (tests/realtime). */

#include <glib.h>

#include <optional>
#include <string>
#include <vector>

namespace voxbridge::realtime {

enum class AudioFormat { kPcm24k, kPcmu, kPcma };

/* The session format for a caps media type: audio/x-mulaw → pcmu,
 * audio/x-alaw → pcma, anything else (audio/x-raw S16LE 24 kHz) → pcm. */
AudioFormat audio_format_from_media_type (const char *media_type);
/* "audio/pcm" (24 kHz S16LE), "audio/pcmu", "audio/pcma". */
const char *audio_format_type (AudioFormat format);
/* Bytes of one millisecond of audio in @format (48 for PCM 24 kHz, 8 for G.711). */
guint audio_format_bytes_per_ms (AudioFormat format);
/* The byte value of digital silence in @format (G.711 has no zero code). */
guint8 audio_format_silence_byte (AudioFormat format);

enum class TurnDetectionType { kServerVad, kSemanticVad, kNone };

struct TurnDetection {
  TurnDetectionType type = TurnDetectionType::kServerVad;
  double threshold = 0.5;             /* server_vad */
  guint prefix_padding_ms = 300;      /* server_vad */
  guint silence_duration_ms = 500;    /* server_vad */
  std::string eagerness = "auto";     /* semantic_vad: low, medium, high, auto */
  bool create_response = true;
  bool interrupt_response = true;
};

enum class NoiseReduction { kNone, kNearField, kFarField };

/* Everything session.update carries. Empty strings mean "leave the server's default". */
struct SessionOptions {
  std::string instructions;
  std::string voice;
  bool output_audio = true;           /* output_modalities ["audio"] or ["text"] */
  TurnDetection turn_detection;
  std::string transcription_model;    /* empty: no input transcription */
  std::string transcription_language;
  NoiseReduction noise_reduction = NoiseReduction::kNone;
  std::string tools_json;             /* a JSON array of tool definitions, or empty */
  AudioFormat input_format = AudioFormat::kPcm24k;
  AudioFormat output_format = AudioFormat::kPcm24k;
};

/* Checks @tools_json is a JSON array of objects; fills @error otherwise. */
bool validate_tools_json (const std::string & tools_json, std::string * error);

/* Client events. Each returns the JSON text to send; @event_id is put in "event_id". */
std::string encode_session_update (const SessionOptions & options, const std::string & event_id);
/* Hot path (one call per audio buffer): built without a JSON tree. */
std::string encode_input_audio_append (const guint8 * audio, gsize size);
std::string encode_input_audio_commit (const std::string & event_id);
std::string encode_response_create (const std::string & event_id);
std::string encode_response_cancel (const std::string & event_id);
std::string encode_item_truncate (const std::string & item_id, guint content_index,
    guint64 audio_end_ms, const std::string & event_id);
std::string encode_function_call_output (const std::string & call_id,
    const std::string & output, const std::string & event_id);
std::string encode_user_text (const std::string & text, const std::string & event_id);
/* An out-of-band text response (conversation "none": the conversation is
 * its context, but it is not added to it) with its own @instructions;
 * @tag comes back in response.created/done as metadata.voxbridge_tag. */
std::string encode_text_response_create (const std::string & instructions,
    const std::string & tag, const std::string & event_id);

/* Server events voxbridge acts on; anything else decodes as kOther. */
enum class ServerEventType {
  kOther,
  kSessionCreated,
  kSessionUpdated,
  kSpeechStarted,
  kSpeechStopped,
  kInputCommitted,
  kResponseCreated,
  kResponseDone,
  kOutputAudioDelta,
  kOutputAudioDone,
  kOutputAudioTranscriptDelta,
  kOutputAudioTranscriptDone,
  kOutputTextDelta,
  kOutputTextDone,
  kInputTranscriptionDelta,
  kInputTranscriptionCompleted,
  kInputTranscriptionFailed,
  kFunctionCallArgumentsDone,
  kItemTruncated,
  kRateLimitsUpdated,
  kError,
};

struct RateLimit {
  std::string name;
  gint64 limit = 0;
  gint64 remaining = 0;
  double reset_seconds = 0;
};

struct ServerEvent {
  ServerEventType type = ServerEventType::kOther;
  std::string type_name;          /* the "type" string as received */
  std::string event_id;
  std::string session_id;         /* session.created/updated */
  std::string model;
  std::string response_id;
  std::string response_tag;       /* response.created/done: metadata.voxbridge_tag */
  std::string item_id;
  std::string previous_item_id;
  guint content_index = 0;
  std::string text;               /* deltas, transcripts, text */
  std::vector<guint8> audio;      /* output_audio.delta, decoded */
  guint64 audio_start_ms = 0;     /* speech_started */
  guint64 audio_end_ms = 0;       /* speech_stopped, item.truncated */
  std::string status;             /* response.done */
  std::string status_reason;
  gint64 input_tokens = -1, output_tokens = -1, total_tokens = -1;
  std::string call_id, name, arguments;   /* function call */
  std::vector<RateLimit> rate_limits;
  std::string error_type, error_code, error_message, error_param, error_event_id;
};

/* Decodes one server message. Returns nullopt and fills @error for text that
 * is not a JSON object with a string "type". */
std::optional<ServerEvent> decode_server_event (const char *text, gsize length,
    std::string * error);

}  // namespace voxbridge::realtime
