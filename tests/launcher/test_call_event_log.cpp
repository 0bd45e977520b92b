/* Call events as text and JSON lines, and the event log writer. */

#include <gtest/gtest.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <cstring>

#include "call_event_log.h"

using namespace voxbridge::launcher;

namespace {

/* 2025-03-01T12:00:00.250Z */
constexpr gint64 TIME_US = G_GINT64_CONSTANT (1740830400250000);

CallEvent
event (CallEventType type, std::vector<std::pair<std::string, std::string>> fields)
{
  CallEvent e;
  e.type = type;
  e.call_id = "c-1";
  e.time_us = TIME_US;
  e.fields = std::move (fields);
  return e;
}

std::string
written (GOutputStream * stream)
{
  GMemoryOutputStream *memory = G_MEMORY_OUTPUT_STREAM (stream);
  return std::string (static_cast<const char *> (g_memory_output_stream_get_data (memory)),
      g_memory_output_stream_get_data_size (memory));
}

}  // namespace

TEST (CallEventText, FormatsOneLine)
{
  EXPECT_EQ (format_event_time (TIME_US), "2025-03-01T12:00:00.250Z");
  EXPECT_EQ (format_call_event_text (event (CallEventType::CallStarted,
              {{"direction", "inbound"}, {"from", "+15550123"}, {"route", "connect"}})),
      "2025-03-01T12:00:00.250Z call.started call=c-1 direction=inbound from=+15550123 "
      "route=connect");
  EXPECT_EQ (format_call_event_text (event (CallEventType::CallerTranscript,
              {{"text", "I need \"help\"\nwith a\\b"}})),
      "2025-03-01T12:00:00.250Z transcript.caller call=c-1 "
      "text=\"I need \\\"help\\\"\\nwith a\\\\b\"");
  EXPECT_EQ (format_call_event_text (event (CallEventType::Dtmf, {{"digit", "#"}})),
      "2025-03-01T12:00:00.250Z dtmf call=c-1 digit=#");
  EXPECT_EQ (format_call_event_text (event (CallEventType::Error,
              {{"cause", "ai"}, {"message", ""}, {"x", "a=b\x01"}})),
      "2025-03-01T12:00:00.250Z error call=c-1 cause=ai message=\"\" x=\"a=b\\x01\"");
}

struct TypeName {
  CallEventType type;
  const char *name;
};

class EventTypeNames : public ::testing::TestWithParam<TypeName> {};

TEST_P (EventTypeNames, AreStable)
{
  EXPECT_STREQ (call_event_type_name (GetParam ().type), GetParam ().name);
}

INSTANTIATE_TEST_SUITE_P (Table, EventTypeNames, ::testing::Values (
    TypeName {CallEventType::CallStarted, "call.started"},
    TypeName {CallEventType::CallAnswered, "call.answered"},
    TypeName {CallEventType::CallEnded, "call.ended"},
    TypeName {CallEventType::CallerTranscript, "transcript.caller"},
    TypeName {CallEventType::AiTranscript, "transcript.ai"},
    TypeName {CallEventType::AiText, "ai.text"},
    TypeName {CallEventType::Dtmf, "dtmf"},
    TypeName {CallEventType::Error, "error"}));

TEST (CallEventJson, IsOneObjectPerLine)
{
  CallEvent e = event (CallEventType::AiTranscript,
      {{"text", "Line one\nline \"two\" \xe2\x98\x8e"}});
  e.sequence = 7;
  const std::string line = format_call_event_json (e);
  EXPECT_EQ (line.find ('\n'), std::string::npos);

  JsonParser *parser = json_parser_new ();
  ASSERT_TRUE (json_parser_load_from_data (parser, line.c_str (), -1, nullptr)) << line;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  EXPECT_STREQ (json_object_get_string_member (o, "time"), "2025-03-01T12:00:00.250Z");
  EXPECT_STREQ (json_object_get_string_member (o, "event"), "transcript.ai");
  EXPECT_STREQ (json_object_get_string_member (o, "call_id"), "c-1");
  EXPECT_EQ (json_object_get_int_member (o, "seq"), 7);
  EXPECT_STREQ (json_object_get_string_member (o, "text"),
      "Line one\nline \"two\" \xe2\x98\x8e");
  g_object_unref (parser);
}

TEST (CallEventJson, ReplacesInvalidUtf8)
{
  const std::string line = format_call_event_json (event (CallEventType::AiText,
          {{"text", "ok\xff"}}));
  EXPECT_TRUE (g_utf8_validate (line.c_str (), -1, nullptr));
  EXPECT_NE (line.find ("ok\xef\xbf\xbd"), std::string::npos) << line;
}

class EventLogFormats : public ::testing::TestWithParam<EventLogFormat> {};

TEST_P (EventLogFormats, WriteOneLinePerEvent)
{
  GOutputStream *stream = g_memory_output_stream_new_resizable ();
  CallEventLog log (GetParam (), stream);
  EXPECT_TRUE (log.write (event (CallEventType::CallStarted, {{"from", "a"}})));
  EXPECT_TRUE (log.write (event (CallEventType::CallerTranscript, {{"text", "x\ny"}})));
  EXPECT_TRUE (log.write (event (CallEventType::CallEnded, {{"reason", "bye"}})));
  const std::string out = written (stream);
  gchar **lines = g_strsplit (out.c_str (), "\n", -1);
  ASSERT_EQ (g_strv_length (lines), 4u) << out;   /* three lines and the empty tail */
  EXPECT_STREQ (lines[3], "");
  for (int i = 0; i < 3; i++) {
    EXPECT_NE (strstr (lines[i], "c-1"), nullptr) << lines[i];
    if (GetParam () == EventLogFormat::Json)
      EXPECT_EQ (lines[i][0], '{') << lines[i];
    else
      EXPECT_TRUE (g_str_has_prefix (lines[i], "2025-03-01T12:00:00.250Z ")) << lines[i];
  }
  if (GetParam () == EventLogFormat::Text)
    EXPECT_STREQ (lines[2], "2025-03-01T12:00:00.250Z call.ended call=c-1 reason=bye");
  else
    EXPECT_STREQ (lines[2], "{\"time\":\"2025-03-01T12:00:00.250Z\",\"event\":\"call.ended\","
        "\"call_id\":\"c-1\",\"reason\":\"bye\"}");
  g_strfreev (lines);
  g_object_unref (stream);
}

INSTANTIATE_TEST_SUITE_P (Both, EventLogFormats,
    ::testing::Values (EventLogFormat::Text, EventLogFormat::Json));

TEST (CallEventLog, OpensTheConfiguredFileForAppending)
{
  gchar *dir = g_dir_make_tmp ("voxbridge-log-XXXXXX", nullptr);
  ASSERT_NE (dir, nullptr);
  LogSettings settings;
  settings.format = EventLogFormat::Json;
  settings.events_file = std::string (dir) + "/events.jsonl";
  for (int round = 0; round < 2; round++) {
    GError *err = nullptr;
    auto log = CallEventLog::open (settings, &err);
    ASSERT_NE (log, nullptr) << err->message;
    log->write (event (CallEventType::Dtmf, {{"digit", std::to_string (round)}}));
  }
  gchar *contents = nullptr;
  ASSERT_TRUE (g_file_get_contents (settings.events_file.c_str (), &contents, nullptr, nullptr));
  EXPECT_NE (strstr (contents, "\"digit\":\"0\"}\n{"), nullptr) << contents;
  EXPECT_NE (strstr (contents, "\"digit\":\"1\"}\n"), nullptr) << contents;
  g_free (contents);
  g_unlink (settings.events_file.c_str ());
  g_rmdir (dir);
  g_free (dir);

  settings.events_file = "/nonexistent-dir/events.log";
  GError *err = nullptr;
  EXPECT_EQ (CallEventLog::open (settings, &err), nullptr);
  EXPECT_NE (err, nullptr);
  g_clear_error (&err);
}
