#include "replies.h"

#include <cstdio>

namespace voxbridge::sim {

std::string
format_seconds (int64_t ms)
{
  char buf[32];
  std::snprintf (buf, sizeof (buf), "%.1f", static_cast<double> (ms) / 1000.0);
  return buf;
}

std::string
speech_placeholder_transcript (int64_t speech_ms)
{
  return "[speech " + format_seconds (speech_ms) + " s]";
}

ReplyBook::ReplyBook (std::vector<std::string> replies) : replies_ (std::move (replies))
{
}

std::string
ReplyBook::reply_to_speech (int64_t speech_ms)
{
  if (!replies_.empty ())
    return replies_[next_++ % replies_.size ()];
  return "I heard you speak for " + format_seconds (speech_ms) +
      " seconds. This is the voxbridge offline assistant.";
}

std::string
ReplyBook::reply_without_input ()
{
  if (!replies_.empty ())
    return replies_[next_++ % replies_.size ()];
  return "Hello, this is the voxbridge offline assistant.";
}

std::string
ReplyBook::reply_to_text (const std::string &text)
{
  /* Asked to say something word for word ('... by saying: "Hello"', as a
   * greeting is asked for): say it, as a model would. */
  const size_t saying = text.find ("saying: \"");
  if (saying != std::string::npos) {
    const size_t begin = saying + 9;
    const size_t end = text.find ('"', begin);
    if (end != std::string::npos && end > begin)
      return text.substr (begin, end - begin);
  }
  return "You wrote: " + text;
}

std::string
ReplyBook::reply_to_function_output (const std::string &output)
{
  return "The function returned: " + output;
}

std::string
ReplyBook::parrot_transcript (int64_t speech_ms)
{
  return "[your speech played back, " + format_seconds (speech_ms) + " s]";
}

std::string
ReplyBook::echo_transcript (int64_t audio_ms)
{
  return "[echo of " + format_seconds (audio_ms) + " s of input audio]";
}

std::string
ReplyBook::out_of_band_reply (int caller_turns, int64_t caller_speech_ms,
    int assistant_replies, const std::string &last_assistant_text)
{
  std::string out = "Call summary: the caller spoke " + std::to_string (caller_turns) +
      " time(s), " + format_seconds (caller_speech_ms) + " s in all; the assistant replied " +
      std::to_string (assistant_replies) + " time(s)";
  if (!last_assistant_text.empty ())
    out += ", last saying: \"" + last_assistant_text + "\"";
  return out + ".";
}

}  // namespace voxbridge::sim
