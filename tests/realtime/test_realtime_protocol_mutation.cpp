/* Bad server events never crash realtimesink/realtimesrc's decoder: mutated
 * server events (from the protocol table tests) decode to an event or to an
 * error, with a fixed seed. */

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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
