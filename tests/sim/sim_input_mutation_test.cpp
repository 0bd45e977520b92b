/* Bad client events never crash voxbridge-realtime-sim: mutated events are
 * parsed and, when they are session.update, applied; every refusal is an
 * error the sim can send, and whatever the sim accepts it can write back as
 * valid JSON (session.updated echoes the session). Fixed seeds. */

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "input_mutation.h"
#include "protocol.h"
#include "session_config.h"

using namespace voxbridge::sim;
using voxbridge::test::describe_input;
using voxbridge::test::InputMutator;
using voxbridge::test::Mutant;

namespace {

const char *const kClientEvents[] = {
  R"({"type":"session.update","event_id":"ev_1","session":{"type":"realtime","instructions":"be brief","output_modalities":["audio"],"audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":{"type":"server_vad","threshold":0.5,"silence_duration_ms":500,"prefix_padding_ms":300},"transcription":{"model":"whisper-1"}},"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin"}},"tools":[{"type":"function","name":"end_call","description":"hang up","parameters":{"type":"object","properties":{"reason":{"type":"string","maxLength":200}}}}],"tool_choice":"auto","max_output_tokens":4096}})",
  R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello sim"}]}})",
  R"({"type":"conversation.item.truncate","item_id":"item_abc","content_index":0,"audio_end_ms":1500})",
  R"({"type":"input_audio_buffer.append","audio":"AAAAAAAA"})",
};

bool
valid_json (const std::string &text)
{
  JsonParser *parser = json_parser_new ();
  const bool ok = json_parser_load_from_data (parser, text.c_str (),
      static_cast<gssize> (text.size ()), nullptr);
  g_object_unref (parser);
  return ok && g_utf8_validate (text.data (), static_cast<gssize> (text.size ()), nullptr);
}

TEST (SimClientEventMutation, EveryMutantIsAnEventOrAnErrorTheSimCanSend)
{
  InputMutator mutator (0x51a1u, 120);
  size_t updates_applied = 0;
  for (const char *valid : kClientEvents) {
    for (const Mutant &m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      ClientEvent event;
      ProtocolError error;
      if (!parse_client_event (m.text.data (), m.text.size (), &event, &error)) {
        EXPECT_FALSE (error.code.empty ());
        EXPECT_FALSE (error.message.empty ());
        JsonNodePtr reply (node_from_object (make_error_event (error, event.event_id)));
        EXPECT_TRUE (valid_json (json_to_compact_string (reply.get ())));
        continue;
      }
      if (event.type != "session.update")
        continue;
      JsonObject *session = nullptr;
      bool is_null = false;
      if (!get_object (event.object, "session", "session", true, &session, &is_null, &error)
          || session == nullptr) {
        continue;
      }
      SessionConfig config;
      if (apply_session_update (&config, session, &error)) {
        updates_applied++;
        JsonNodePtr echoed (node_from_object (session_to_json (config)));
        const std::string text = json_to_compact_string (echoed.get ());
        EXPECT_TRUE (valid_json (text)) << describe_input (text, 400);
      } else {
        EXPECT_FALSE (error.code.empty ());
        EXPECT_FALSE (error.message.empty ());
        JsonNodePtr reply (node_from_object (make_error_event (error, event.event_id)));
        EXPECT_TRUE (valid_json (json_to_compact_string (reply.get ())));
      }
    }
  }
  EXPECT_GT (updates_applied, 0u);
}

/* Regression: a tool schema with 1e309 was accepted and echoed in
 * session.updated as "inf.0". */
TEST (SimClientEventMutation, NumberBeyondDoubleRangeIsAnErrorWithTheEventId)
{
  const std::string text = R"({"type":"session.update","event_id":"ev_9","session":{"type":"realtime","tools":[{"type":"function","name":"f","parameters":{"maxLength":1e309}}]}})";
  ClientEvent event;
  ProtocolError error;
  EXPECT_FALSE (parse_client_event (text.data (), text.size (), &event, &error));
  EXPECT_EQ (error.code, "invalid_json");
  EXPECT_EQ (event.event_id.value_or (""), "ev_9");
}

}  // namespace
