/* Bad server events never crash realtimesink/realtimesrc's decoder: mutated
 * server events (from the protocol table tests) decode to an event or to an
 * error, with a fixed seed. */

#include <gtest/gtest.h>

#include <json-glib/json-glib.h>

#include <cstring>
#include <string>
#include <vector>

#include "input_mutation.h"
#include "realtime_protocol.h"

using namespace voxbridge::realtime;
using voxbridge::test::describe_input;
using voxbridge::test::InputMutator;
using voxbridge::test::Mutant;

namespace {

const char *const kServerEvents[] = {
  R"({"type":"session.created","event_id":"e","session":{"id":"sess_1","model":"gpt-realtime"}})",
  R"({"type":"input_audio_buffer.speech_started","audio_start_ms":1200,"item_id":"it_1"})",
  R"({"type":"response.output_audio.delta","response_id":"r1","item_id":"i1","content_index":0,"delta":"AAEC"})",
  R"({"type":"response.done","response":{"id":"r1","status":"cancelled","status_details":{"reason":"turn_detected"},"usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}})",
  R"({"type":"response.function_call_arguments.done","call_id":"call_1","name":"end_call","arguments":"{\"reason\":\"bye\"}"})",
  R"({"type":"rate_limits.updated","rate_limits":[{"name":"requests","limit":1000,"remaining":999,"reset_seconds":0.06}]})",
  R"({"type":"error","event_id":"x","error":{"type":"invalid_request_error","code":"invalid_value","message":"Audio content of 100ms is already shorter than 200ms","param":"audio_end_ms","event_id":"vb_3"}})",
  R"({"type":"conversation.item.truncated","item_id":"i1","content_index":0,"audio_end_ms":640})",
};

TEST (RealtimeServerEventMutation, EveryMutantDecodesOrGivesAnError)
{
  /* Short audio deltas raise GLib criticals (see ShortAudioDeltaRaisesNoCritical);
   * counted there, silenced here. */
  const guint handler = g_log_set_handler ("GLib", G_LOG_LEVEL_CRITICAL,
      [] (const gchar *, GLogLevelFlags, const gchar *, gpointer) {}, nullptr);
  InputMutator mutator (0x4ea1u, 40);
  for (const char *valid : kServerEvents) {
    for (const Mutant &m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      std::string error;
      auto event = decode_server_event (m.text.data (), m.text.size (), &error);
      if (!event) {
        EXPECT_FALSE (error.empty ());
        continue;
      }
      EXPECT_FALSE (event->type_name.empty ());
    }
  }
  g_log_remove_handler ("GLib", handler);
}

/* What json-glib alone makes of @text: whether it is an object with a
 * string "type", and the base64 decode of its string "delta" (empty when
 * there is none). */
bool
reference_decode (const std::string & text, std::vector<guint8> * audio)
{
  audio->clear ();
  JsonParser *parser = json_parser_new ();
  bool ok = json_parser_load_from_data (parser, text.data (), text.size (), nullptr);
  JsonNode *root = ok ? json_parser_get_root (parser) : nullptr;
  ok = root && JSON_NODE_HOLDS_OBJECT (root);
  if (ok) {
    JsonObject *obj = json_node_get_object (root);
    JsonNode *type = json_object_get_member (obj, "type");
    ok = type && JSON_NODE_HOLDS_VALUE (type) && json_node_get_value_type (type) == G_TYPE_STRING
        && *json_node_get_string (type) != '\0';
    JsonNode *delta = json_object_get_member (obj, "delta");
    if (ok && delta && JSON_NODE_HOLDS_VALUE (delta)
        && json_node_get_value_type (delta) == G_TYPE_STRING) {
      const char *b64 = json_node_get_string (delta);
      audio->resize (strlen (b64) / 4 * 3 + 3);
      gint state = 0;
      guint save = 0;
      audio->resize (g_base64_decode_step (b64, strlen (b64), audio->data (), &state, &save));
    }
  }
  g_object_unref (parser);
  return ok;
}

/* A long audio delta is lifted out of the message before json-glib parses
 * the rest (json_string_lift.h): every mutant of one decodes as json-glib
 * alone would have it (accepted or not, and the same audio). */
TEST (RealtimeServerEventMutation, LiftedAudioDeltaDecodesAsJsonGlibReadsIt)
{
  std::string b64;
  for (int i = 0; i < 60; i++)
    b64 += "AAECAwQF/+7d";
  const std::string valid = R"({"type":"response.output_audio.delta","event_id":"e1","response_id":"r1","item_id":"i1","output_index":0,"content_index":0,"delta":")"
      + b64 + "\"}";
  InputMutator mutator (0x11f7u, 60);
  int accepted = 0;
  for (const Mutant &m : mutator.mutate (valid)) {
    SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
    std::vector<guint8> expected;
    const bool expect_ok = reference_decode (m.text, &expected);
    std::string error;
    auto event = decode_server_event (m.text.data (), m.text.size (), &error);
    ASSERT_EQ (event.has_value (), expect_ok) << error;
    if (!event || event->type != ServerEventType::kOutputAudioDelta)
      continue;
    accepted++;
    EXPECT_EQ (event->audio, expected);
  }
  EXPECT_GT (accepted, 10);
}

/* content_index goes back to the server in conversation.item.truncate; a
 * negative or huge value must not wrap to another index. */
TEST (RealtimeServerEventMutation, NegativeOrHugeContentIndexDoesNotWrap)
{
  std::string wrapped;
  for (const char *value : {"-1", "4294967296", "-2147483649"}) {
    gchar *text = g_strdup_printf (
        R"({"type":"response.output_audio.delta","item_id":"i","content_index":%s,"delta":"AAEC"})",
        value);
    std::string error;
    auto event = decode_server_event (text, strlen (text), &error);
    if (event && event->content_index != 0)
      wrapped += std::string (value) + " -> " + std::to_string (event->content_index) + "; ";
    g_free (text);
  }
  EXPECT_TRUE (wrapped.empty ()) << "content_index wrapped: " << wrapped;
}

/* An empty or one-character audio delta is bad input, not a programming
 * error: it must not raise a GLib critical (fatal under G_DEBUG=fatal-criticals). */
TEST (RealtimeServerEventMutation, ShortAudioDeltaRaisesNoCritical)
{
  static int criticals;
  criticals = 0;
  const guint handler = g_log_set_handler ("GLib", G_LOG_LEVEL_CRITICAL,
      [] (const gchar *, GLogLevelFlags, const gchar *, gpointer) { criticals++; }, nullptr);
  for (const char *delta : {"", "A", "="}) {
    gchar *text = g_strdup_printf (
        R"({"type":"response.output_audio.delta","item_id":"i","content_index":0,"delta":"%s"})",
        delta);
    std::string error;
    auto event = decode_server_event (text, strlen (text), &error);
    if (event) {
      EXPECT_TRUE (event->audio.empty ());
    }
    g_free (text);
  }
  g_log_remove_handler ("GLib", handler);
  EXPECT_EQ (criticals, 0) << "GLib-CRITICAL on a delta shorter than 2 characters";
}

}  // namespace
