#pragma once

/* Conversation items of one session and their JSON form. */

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <json-glib/json-glib.h>

namespace voxbridge::sim {

struct Item {
  enum class Kind {
    kUserAudio,      /* committed input audio (VAD or input_audio_buffer.commit) */
    kUserText,       /* message, role user, input_text */
    kSystemText,     /* message, role system */
    kAssistant,      /* message, role assistant (audio or text) */
    kFunctionCall,
    kFunctionCallOutput,
  };

  std::string id;
  Kind kind = Kind::kUserText;
  std::string status = "completed";
  std::string text;       /* user/system text, transcript, function output */
  std::optional<std::string> transcript;  /* user audio: input transcription */
  bool assistant_audio = false;  /* assistant: output_audio vs output_text */
  int64_t speech_ms = 0;         /* user audio */
  std::vector<int16_t> audio;    /* user audio, canonical; kept for parrot */
  int64_t audio_sent_ms = 0;     /* assistant audio actually sent (truncate bound) */
  std::string call_id, name, arguments;  /* function call / output */
  bool answered = false;         /* a response already used this input */

  bool is_turn_input () const
  {
    return kind == Kind::kUserAudio || kind == Kind::kUserText ||
        kind == Kind::kFunctionCallOutput;
  }
};

/* The item object of conversation.item.* / response.output_item.* events. */
JsonObject *item_to_json (const Item &item);

}  // namespace voxbridge::sim
