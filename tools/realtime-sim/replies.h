#pragma once

/* What the sim says. It has no speech recogniser and no language model, so
 * every text it produces states only what it actually knows: how long the
 * caller spoke, or the text / function output it was given. */

#include <cstdint>
#include <string>
#include <vector>

namespace voxbridge::sim {

/* "1.8" for 1800 ms. */
std::string format_seconds (int64_t ms);

/* Input transcription of a user audio turn: "[speech 1.8 s]". */
std::string speech_placeholder_transcript (int64_t speech_ms);

/* One session's replies: --reply texts used in turn, else a default. */
class ReplyBook {
 public:
  explicit ReplyBook (std::vector<std::string> replies);

  std::string reply_to_speech (int64_t speech_ms);
  /* A response.create with no new user input. */
  std::string reply_without_input ();

  static std::string reply_to_text (const std::string &text);
  static std::string reply_to_function_output (const std::string &output);
  static std::string parrot_transcript (int64_t speech_ms);
  static std::string echo_transcript (int64_t audio_ms);
  /* An out-of-band text response (conversation "none", e.g. a call
   * summary): what the sim knows of the conversation so far. */
  static std::string out_of_band_reply (int caller_turns, int64_t caller_speech_ms,
      int assistant_replies, const std::string &last_assistant_text);

 private:
  std::vector<std::string> replies_;
  size_t next_ = 0;
};

}  // namespace voxbridge::sim
