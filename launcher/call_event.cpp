/* Call events and their text and JSON line forms. */

#include "call_event.h"
#include "json_text.h"

#include <json-glib/json-glib.h>

namespace voxbridge::launcher {

namespace {

bool
needs_quotes (const std::string & value)
{
  if (value.empty ())
    return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
      return true;
  }
  return false;
}

/* Quotes a value for the text log; control characters become escapes so
 * that one event is always one line. */
std::string
text_value (const std::string & raw)
{
  gchar *valid = g_utf8_make_valid (raw.c_str (), raw.size ());
  const std::string value (valid);
  g_free (valid);
  if (!needs_quotes (value))
    return value;
  std::string out = "\"";
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escaped[8];
          g_snprintf (escaped, sizeof escaped, "\\x%02x", c);
          out += escaped;
        } else {
          out += (char) c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

CallEvent
CallEvent::now (CallEventType type, std::string call_id,
    std::vector<std::pair<std::string, std::string>> fields)
{
  CallEvent event;
  event.type = type;
  event.call_id = std::move (call_id);
  event.time_us = g_get_real_time ();
  event.fields = std::move (fields);
  return event;
}

const char *
CallEvent::field (const std::string & name) const
{
  for (const auto & [key, value] : fields) {
    if (key == name)
      return value.c_str ();
  }
  return nullptr;
}

const char *
call_event_type_name (CallEventType type)
{
  switch (type) {
    case CallEventType::CallStarted:
      return "call.started";
    case CallEventType::CallAnswered:
      return "call.answered";
    case CallEventType::CallEnded:
      return "call.ended";
    case CallEventType::CallerTranscript:
      return "transcript.caller";
    case CallEventType::AiTranscript:
      return "transcript.ai";
    case CallEventType::AiText:
      return "ai.text";
    case CallEventType::SpeechStarted:
      return "speech.started";
    case CallEventType::BargeIn:
      return "barge_in";
    case CallEventType::Dtmf:
      return "dtmf";
    case CallEventType::Error:
      return "error";
    case CallEventType::RecordingReady:
      return "recording.ready";
    case CallEventType::TranscriptReady:
      return "transcript.ready";
    case CallEventType::CallSummary:
      return "call.summary";
    case CallEventType::ToolCall:
      return "tool.call";
    case CallEventType::ToolResult:
      return "tool.result";
    case CallEventType::TransferStarted:
      return "transfer.started";
    case CallEventType::TransferProgress:
      return "transfer.progress";
    case CallEventType::TransferAccepted:
      return "transfer.accepted";
    case CallEventType::TransferFailed:
      return "transfer.failed";
    case CallEventType::TransferBridged:
      return "transfer.bridged";
    case CallEventType::TransferEnded:
      return "transfer.ended";
  }
  return "error";
}

std::string
format_event_number (double value, int decimals)
{
  gchar format[8];
  g_snprintf (format, sizeof format, "%%.%df", CLAMP (decimals, 0, 9));
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, format, value);
  return buf;
}

std::string
format_event_time (gint64 time_us)
{
  const gint64 seconds = time_us / G_USEC_PER_SEC;
  const int millis = (time_us % G_USEC_PER_SEC) / 1000;
  GDateTime *time = g_date_time_new_from_unix_utc (seconds);
  gchar *date = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S");
  char out[64];
  g_snprintf (out, sizeof out, "%s.%03dZ", date, millis);
  g_free (date);
  g_date_time_unref (time);
  return out;
}

std::string
format_call_event_text (const CallEvent & event)
{
  std::string line = format_event_time (event.time_us) + " "
      + call_event_type_name (event.type) + " call=" + text_value (event.call_id);
  for (const auto & [key, value] : event.fields)
    line += " " + key + "=" + text_value (value);
  return line;
}

std::string
format_call_event_json (const CallEvent & event)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "time");
  json_builder_add_string_value (builder, format_event_time (event.time_us).c_str ());
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, call_event_type_name (event.type));
  json_builder_set_member_name (builder, "call_id");
  json_builder_add_string_value (builder, event.call_id.c_str ());
  if (event.sequence > 0) {
    json_builder_set_member_name (builder, "seq");
    json_builder_add_int_value (builder, event.sequence);
  }
  for (const auto & [key, value] : event.fields) {
    json_add_string_member (builder, key, value);
  }
  json_builder_end_object (builder);
  return json_builder_take_text (builder);
}

}  // namespace voxbridge::launcher
