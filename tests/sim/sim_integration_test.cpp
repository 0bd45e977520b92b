/* Integration tests: the real voxbridge-realtime-sim binary on loopback,
 * driven by a libsoup WebSocket client. No timing assertions. */

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include "input_mutation.h"
#include "realtime_sim_process.h"
#include "ws_test_client.h"

using voxbridge::test::Headers;
using voxbridge::test::RealtimeSimProcess;
using voxbridge::test::WsTestClient;

namespace {

const char *kKey = "sk-test-0123456789";

std::string
str (JsonObject *obj, const char *member)
{
  return obj && json_object_has_member (obj, member) &&
          JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, member))
      ? json_object_get_string_member (obj, member)
      : "";
}

JsonObject *
path (JsonObject *obj, std::initializer_list<const char *> members)
{
  for (const char *m : members) {
    if (!obj || !json_object_has_member (obj, m) ||
        !JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, m)))
      return nullptr;
    obj = json_object_get_object_member (obj, m);
  }
  return obj;
}

/* 24 kHz S16LE: @tone_ms of a 440 Hz tone at -10 dBFS, then @silence_ms zeros. */
std::vector<uint8_t>
pcm_tone_then_silence (int tone_ms, int silence_ms)
{
  std::vector<uint8_t> out;
  int n_tone = 24 * tone_ms, n = 24 * (tone_ms + silence_ms);
  for (int i = 0; i < n; i++) {
    int16_t s = i < n_tone
        ? static_cast<int16_t> (0.3 * 32767 * std::sin (2 * M_PI * 440.0 * i / 24000.0))
        : 0;
    out.push_back (static_cast<uint8_t> (s & 0xff));
    out.push_back (static_cast<uint8_t> ((s >> 8) & 0xff));
  }
  return out;
}

void
send_in_chunks (WsTestClient &client, const std::vector<uint8_t> &bytes, size_t chunk)
{
  for (size_t i = 0; i < bytes.size (); i += chunk)
    client.send_append (std::vector<uint8_t> (bytes.begin () + i,
        bytes.begin () + std::min (bytes.size (), i + chunk)));
}

std::unique_ptr<WsTestClient>
open_session (const RealtimeSimProcess &sim, const std::string &path = "/v1/realtime?model=gpt-realtime",
    const Headers &headers = {})
{
  auto client = std::make_unique<WsTestClient> ();
  EXPECT_TRUE (client->connect (sim.url (path), headers)) << "HTTP " << client->http_status ();
  EXPECT_NE (client->wait_for ("session.created"), nullptr);
  return client;
}

const char *kTextHello = R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello sim"}]}})";

}  // namespace

TEST (SimAuth, WrongBearerKeyGets401AndNoWebSocket)
{
  RealtimeSimProcess sim ({"--api-key", kKey});
  ASSERT_TRUE (sim.started ()) << sim.log ();

  WsTestClient bad;
  EXPECT_FALSE (bad.connect (sim.url (), {{"Authorization", "Bearer sk-wrong"}}));
  EXPECT_EQ (bad.http_status (), 401u);
  auto [status, body] = voxbridge::test::http_get (sim.url ().replace (0, 2, "http"),
      {{"Authorization", "Bearer sk-wrong"}});
  EXPECT_EQ (status, 401u);
  EXPECT_NE (body.find ("\"code\":\"invalid_api_key\""), std::string::npos) << body;
  EXPECT_NE (body.find ("Incorrect API key provided"), std::string::npos) << body;

  WsTestClient none;
  EXPECT_FALSE (none.connect (sim.url ()));
  EXPECT_EQ (none.http_status (), 401u);

  WsTestClient good;
  ASSERT_TRUE (good.connect (sim.url (), {{"Authorization", std::string ("Bearer ") + kKey}}));
  JsonObject *created = good.wait_for ("session.created");
  ASSERT_NE (created, nullptr);
  JsonObject *session = path (created, {"session"});
  EXPECT_EQ (str (session, "type"), "realtime");
  EXPECT_EQ (str (session, "model"), "gpt-realtime");
  EXPECT_EQ (str (session, "id").rfind ("sess_", 0), 0u);
  EXPECT_EQ (str (path (session, {"audio", "input", "turn_detection"}), "type"), "server_vad");
  EXPECT_EQ (str (path (session, {"audio", "output"}), "voice"), "alloy");
}

TEST (SimAuth, AzureApiKeyHeader)
{
  RealtimeSimProcess sim ({"--api-key", kKey});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  const std::string azure = "/openai/v1/realtime?model=my-deployment";

  WsTestClient bad;
  EXPECT_FALSE (bad.connect (sim.url (azure), {{"api-key", "wrong"}}));
  EXPECT_EQ (bad.http_status (), 401u);

  WsTestClient good;
  ASSERT_TRUE (good.connect (sim.url (azure), {{"api-key", kKey}}));
  JsonObject *created = good.wait_for ("session.created");
  ASSERT_NE (created, nullptr);
  EXPECT_EQ (str (path (created, {"session"}), "model"), "my-deployment");
}

TEST (SimAuth, ApiVersionOnAzureGaUrlGets401AndMissingModel400)
{
  RealtimeSimProcess sim ({"--api-key", kKey});
  ASSERT_TRUE (sim.started ()) << sim.log ();

  WsTestClient versioned;
  EXPECT_FALSE (versioned.connect (
      sim.url ("/openai/v1/realtime?model=dep&api-version=2025-04-01-preview"),
      {{"api-key", kKey}}));
  EXPECT_EQ (versioned.http_status (), 401u);

  WsTestClient no_model;
  EXPECT_FALSE (no_model.connect (sim.url ("/v1/realtime"), {{"api-key", kKey}}));
  EXPECT_EQ (no_model.http_status (), 400u);
}

TEST (SimProtocol, SessionUpdateToPcmuAndValidationErrors)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);

  client->send (R"({"type":"session.update","event_id":"u1","session":{"type":"realtime","instructions":"Be brief.","audio":{"input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"},"voice":"marin"}}}})");
  JsonObject *updated = client->wait_for ("session.updated");
  ASSERT_NE (updated, nullptr);
  JsonObject *session = path (updated, {"session"});
  EXPECT_EQ (str (path (session, {"audio", "input", "format"}), "type"), "audio/pcmu");
  EXPECT_EQ (str (path (session, {"audio", "output", "format"}), "type"), "audio/pcmu");
  EXPECT_EQ (str (path (session, {"audio", "output"}), "voice"), "marin");
  EXPECT_EQ (str (session, "instructions"), "Be brief.");
  /* merge: turn detection untouched */
  EXPECT_EQ (str (path (session, {"audio", "input", "turn_detection"}), "type"), "server_vad");

  client->send (R"({"type":"session.update","event_id":"u2","session":{"type":"realtime","audio":{"output":{"format":{"type":"audio/pcm","rate":44100}}}}})");
  JsonObject *error = client->wait_for ("error");
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (str (path (error, {"error"}), "code"), "invalid_value");
  EXPECT_EQ (str (path (error, {"error"}), "param"), "session.audio.output.format.rate");
  EXPECT_EQ (str (path (error, {"error"}), "event_id"), "u2");

  client->send (R"({"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":null}}}})");
  updated = client->wait_for ("session.updated");
  ASSERT_NE (updated, nullptr);
  EXPECT_TRUE (json_object_get_null_member (
      path (updated, {"session", "audio", "input"}), "turn_detection"));
  EXPECT_EQ (str (path (updated, {"session", "audio", "output", "format"}), "type"), "audio/pcmu");
}

TEST (SimProtocol, MalformedJsonGivesErrorAndSessionStaysUsable)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);

  client->send ("{this is not json");
  JsonObject *e1 = client->wait_for ("error");
  ASSERT_NE (e1, nullptr);
  EXPECT_EQ (str (path (e1, {"error"}), "type"), "invalid_request_error");
  EXPECT_EQ (str (path (e1, {"error"}), "code"), "invalid_json");
  EXPECT_TRUE (json_object_get_null_member (path (e1, {"error"}), "event_id"));
  EXPECT_EQ (str (e1, "event_id").rfind ("event_", 0), 0u);

  client->send (R"({"event_id":"no-type"})");
  JsonObject *e2 = client->wait_for ("error");
  ASSERT_NE (e2, nullptr);
  EXPECT_EQ (str (path (e2, {"error"}), "code"), "missing_required_parameter");
  EXPECT_EQ (str (path (e2, {"error"}), "event_id"), "no-type");

  client->send (R"({"type":"conversation.dance","event_id":"ev7"})");
  JsonObject *e3 = client->wait_for ("error");
  ASSERT_NE (e3, nullptr);
  EXPECT_EQ (str (path (e3, {"error"}), "event_id"), "ev7");

  client->send (R"({"type":"input_audio_buffer.append","audio":"***"})");
  JsonObject *e4 = client->wait_for ("error");
  ASSERT_NE (e4, nullptr);
  EXPECT_EQ (str (path (e4, {"error"}), "param"), "audio");

  client->send (R"({"type":"input_audio_buffer.commit"})");
  JsonObject *e5 = client->wait_for ("error");
  ASSERT_NE (e5, nullptr);
  EXPECT_EQ (str (path (e5, {"error"}), "code"), "input_audio_buffer_commit_empty");

  client->send (R"({"type":"session.update","session":{"type":"realtime","instructions":"still here"}})");
  JsonObject *updated = client->wait_for ("session.updated");
  ASSERT_NE (updated, nullptr);
  EXPECT_EQ (str (path (updated, {"session"}), "instructions"), "still here");
}

/* Echo: the audio comes back byte for byte in the same format. */
static void
check_echo_round_trip (const char *format_json, size_t bytes_per_chunk)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  if (format_json) {
    client->send (std::string (R"({"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":)") +
        format_json + R"(},"output":{"format":)" + format_json + "}}}}");
    ASSERT_NE (client->wait_for ("session.updated"), nullptr);
  }
  std::vector<uint8_t> sent;
  for (size_t i = 0; i < 10 * bytes_per_chunk; i++)
    sent.push_back (static_cast<uint8_t> ((i * 37 + 11) & 0xff));
  send_in_chunks (*client, sent, bytes_per_chunk);

  ASSERT_NE (client->wait_for ("response.created"), nullptr);
  JsonObject *done = client->wait_for ("response.done");  /* 1 s after the last append */
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "completed");
  EXPECT_EQ (client->count ("response.output_audio.delta"), 10u);
  EXPECT_EQ (client->audio_received (), sent);
  EXPECT_NE (client->wait_for ("rate_limits.updated"), nullptr);
}

TEST (SimEcho, PcmRoundTrip) { check_echo_round_trip (nullptr, 4800); }

TEST (SimEcho, PcmuRoundTrip) { check_echo_round_trip (R"({"type":"audio/pcmu"})", 160); }

/* pcm in, pcmu out: the echo is transcoded (24 kHz S16 → 8 kHz μ-law). */
TEST (SimEcho, TranscodesWhenFormatsDiffer)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send (R"({"type":"session.update","session":{"type":"realtime","audio":{"output":{"format":{"type":"audio/pcmu"}}}}})");
  ASSERT_NE (client->wait_for ("session.updated"), nullptr);
  send_in_chunks (*client, pcm_tone_then_silence (1000, 0), 4800);
  ASSERT_NE (client->wait_for ("response.done"), nullptr);
  std::vector<uint8_t> ulaw = client->audio_received ();
  /* 1 s at 8 kHz, less the resampler's delay */
  EXPECT_LE (ulaw.size (), 8000u);
  EXPECT_GE (ulaw.size (), 7900u);
  /* μ-law silence is 0xff/0x7f; a -10 dBFS tone is far from it */
  size_t loud = 0;
  for (uint8_t b : ulaw)
    loud += (b & 0x7f) < 0x50;
  EXPECT_GT (loud, 4000u);
}

/* Every bad event gets an error event; nothing kills the session. */
TEST (SimProtocol, BadEventsNeverBreakTheSession)
{
  RealtimeSimProcess sim ({"--pace", "0"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  const char *bad[] = {
    "", "null", "42", "\"text\"", "{}", R"({"type":null})",
    R"({"type":"session.update"})",
    R"({"type":"session.update","session":5})",
    R"({"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":"pcm"}}}})",
    R"({"type":"session.update","session":{"type":"realtime","audio":[]}})",
    R"({"type":"session.update","session":{"type":"realtime","tools":{}}})",
    R"({"type":"input_audio_buffer.append"})",
    R"({"type":"input_audio_buffer.append","audio":5})",
    R"({"type":"input_audio_buffer.append","audio":"abc"})",
    R"({"type":"conversation.item.create"})",
    R"({"type":"conversation.item.create","item":[]})",
    R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":"x"}})",
    R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[]}})",
    R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[7]}})",
    R"({"type":"conversation.item.create","item":{"type":"message","role":"robot","content":[{"type":"input_text","text":"x"}]}})",
    R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image"}]}})",
    R"({"type":"conversation.item.create","previous_item_id":"item_x","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"x"}]}})",
    R"({"type":"conversation.item.truncate","item_id":5,"content_index":0,"audio_end_ms":0})",
    R"({"type":"conversation.item.truncate","item_id":"i","content_index":"0","audio_end_ms":0})",
    R"({"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":1.5})",
    R"({"type":"conversation.item.delete"})",
    R"({"type":"conversation.item.delete","item_id":"missing"})",
    R"({"type":"response.create","response":7})",
    R"({"type":"response.create","response":{"output_modalities":"text"}})",
    R"({"type":"response.cancel","response_id":9})",
  };
  for (const char *event : bad)
    client->send (event);
  client->send (R"({"type":"session.update","session":{"type":"realtime","instructions":"ok"}})");
  ASSERT_NE (client->wait_for ("session.updated"), nullptr);
  EXPECT_EQ (client->count ("error"), G_N_ELEMENTS (bad));
  for (JsonObject *error : client->all ("error"))
    EXPECT_FALSE (str (path (error, {"error"}), "message").empty ());
  ASSERT_TRUE (client->is_open ());
  EXPECT_EQ (client->count ("response.created"), 0u);
}

/* Mutated client events (fixed seed) over one session: every one that is
 * not a JSON object gets an error event, none breaks the session. Mutants
 * with invalid UTF-8 are left out (a WebSocket peer must close on them,
 * RFC 6455 8.1; sim-input-mutation covers them without the socket), and so
 * are those above libsoup's 128 KiB message limit. */
TEST (SimProtocol, MutatedEventsGetErrorsAndTheSessionStaysUsable)
{
  RealtimeSimProcess sim ({"--pace", "0"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  voxbridge::test::InputMutator mutator (0x51a2u, 15);
  size_t sent = 0, not_objects = 0;
  for (const char *valid : {
           R"({"type":"session.update","event_id":"ev_1","session":{"type":"realtime","instructions":"be brief","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":0.5,"silence_duration_ms":500}}},"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]}})",
           R"({"type":"conversation.item.truncate","item_id":"item_abc","content_index":0,"audio_end_ms":1500})"}) {
    for (const voxbridge::test::Mutant &m : mutator.mutate (valid)) {
      if (m.text.size () > 64 * 1024 ||
          !g_utf8_validate (m.text.data (), static_cast<gssize> (m.text.size ()), nullptr))
        continue;
      JsonParser *parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, m.text.data (),
              static_cast<gssize> (m.text.size ()), nullptr) ||
          !json_parser_get_root (parser) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        not_objects++;
      g_object_unref (parser);
      client->send_text_bytes (m.text);
      sent++;
    }
  }
  client->send (R"({"type":"session.update","session":{"type":"realtime","instructions":"ok"}})");
  ASSERT_TRUE (voxbridge::test::run_until ([&client] {
        for (JsonObject *updated : client->all ("session.updated")) {
          if (str (path (updated, {"session"}), "instructions") == "ok")
            return true;
        }
        return false;
      }, 20000)) << "sent " << sent;
  EXPECT_GT (not_objects, 0u);
  EXPECT_GE (client->count ("error"), not_objects);
  for (JsonObject *error : client->all ("error"))
    EXPECT_FALSE (str (path (error, {"error"}), "message").empty ());
  EXPECT_TRUE (client->is_open ());
  EXPECT_EQ (sim.terminate (), 0) << sim.log ();
}

TEST (SimVad, ToneThenSilenceGivesTurnEventsTranscriptAndParrotReply)
{
  RealtimeSimProcess sim ({"--behaviour", "parrot", "--pace", "0"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send (R"({"type":"session.update","session":{"type":"realtime","audio":{"input":{"transcription":{"model":"whisper-1"}}}}})");
  ASSERT_NE (client->wait_for ("session.updated"), nullptr);

  std::vector<uint8_t> audio = pcm_tone_then_silence (0, 500);
  std::vector<uint8_t> turn = pcm_tone_then_silence (1000, 1500);
  audio.insert (audio.end (), turn.begin (), turn.end ());
  send_in_chunks (*client, audio, 4800);

  JsonObject *started = client->wait_for ("input_audio_buffer.speech_started");
  ASSERT_NE (started, nullptr);
  std::string item_id = str (started, "item_id");
  EXPECT_EQ (item_id.rfind ("item_", 0), 0u);
  EXPECT_EQ (json_object_get_int_member (started, "audio_start_ms"), 500 - 300);

  JsonObject *stopped = client->wait_for ("input_audio_buffer.speech_stopped");
  ASSERT_NE (stopped, nullptr);
  EXPECT_EQ (str (stopped, "item_id"), item_id);
  EXPECT_EQ (json_object_get_int_member (stopped, "audio_end_ms"), 1500 + 500);

  JsonObject *committed = client->wait_for ("input_audio_buffer.committed");
  ASSERT_NE (committed, nullptr);
  EXPECT_EQ (str (committed, "item_id"), item_id);
  JsonObject *added = client->wait_for ("conversation.item.added");
  ASSERT_NE (added, nullptr);
  EXPECT_EQ (str (path (added, {"item"}), "role"), "user");
  EXPECT_EQ (str (path (added, {"item"}), "id"), item_id);
  JsonObject *transcript = client->wait_for ("conversation.item.input_audio_transcription.completed");
  ASSERT_NE (transcript, nullptr);
  EXPECT_EQ (str (transcript, "item_id"), item_id);
  EXPECT_EQ (str (transcript, "transcript"), "[speech 1.0 s]");

  ASSERT_NE (client->wait_for ("response.created"), nullptr);
  JsonObject *done = client->wait_for ("response.done");
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "completed");
  /* Parrot plays the utterance back: 1.0 s tone + 0.3 s padding + 0.5 s silence. */
  EXPECT_EQ (client->audio_received ().size (), 1800u * 48);
  EXPECT_EQ (client->count ("input_audio_buffer.speech_started"), 1u);
}

TEST (SimSpeak, TextTurnGetsSpokenReplyWithTranscript)
{
  RealtimeSimProcess sim ({"--pace", "0"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);

  client->send (kTextHello);
  ASSERT_NE (client->wait_for ("conversation.item.added"), nullptr);
  client->send (R"({"type":"response.create"})");
  JsonObject *created = client->wait_for ("response.created");
  ASSERT_NE (created, nullptr);
  EXPECT_EQ (str (path (created, {"response"}), "status"), "in_progress");
  JsonObject *item_added = client->wait_for ("response.output_item.added");
  ASSERT_NE (item_added, nullptr);
  EXPECT_EQ (str (path (item_added, {"item"}), "role"), "assistant");
  ASSERT_NE (client->wait_for ("response.content_part.added"), nullptr);
  ASSERT_NE (client->wait_for ("response.output_audio.delta"), nullptr);
  ASSERT_NE (client->wait_for ("response.output_audio.done"), nullptr);
  JsonObject *transcript = client->wait_for ("response.output_audio_transcript.done");
  ASSERT_NE (transcript, nullptr);
  EXPECT_EQ (str (transcript, "transcript"), "You wrote: hello sim");
  ASSERT_NE (client->wait_for ("response.content_part.done"), nullptr);
  ASSERT_NE (client->wait_for ("response.output_item.done"), nullptr);
  JsonObject *done = client->wait_for ("response.done");
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "completed");
  JsonObject *usage = path (done, {"response", "usage"});
  ASSERT_NE (usage, nullptr);
  EXPECT_GT (json_object_get_int_member (usage, "output_tokens"), 0);

  /* espeak speech: clearly more than a second of non-silent 24 kHz audio */
  std::vector<uint8_t> audio = client->audio_received ();
  EXPECT_GT (audio.size (), 48000u);
  size_t loud = 0;
  for (size_t i = 0; i + 1 < audio.size (); i += 2)
    loud += std::abs (static_cast<int16_t> (audio[i] | (audio[i + 1] << 8))) > 1000;
  EXPECT_GT (loud, 1000u);
  std::string joined;
  for (JsonObject *d : client->all ("response.output_audio_transcript.delta"))
    joined += str (d, "delta");
  EXPECT_EQ (joined, "You wrote: hello sim");
}

TEST (SimSpeak, TextModalityGivesTextDeltas)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send (R"({"type":"session.update","session":{"type":"realtime","output_modalities":["text"]}})");
  ASSERT_NE (client->wait_for ("session.updated"), nullptr);
  client->send (kTextHello);
  client->send (R"({"type":"response.create"})");
  JsonObject *text = client->wait_for ("response.output_text.done");
  ASSERT_NE (text, nullptr);
  EXPECT_EQ (str (text, "text"), "You wrote: hello sim");
  ASSERT_NE (client->wait_for ("response.done"), nullptr);
  EXPECT_EQ (client->count ("response.output_audio.delta"), 0u);
  EXPECT_GE (client->count ("response.output_text.delta"), 3u);
}

TEST (SimSpeak, OutOfBandTextResponseStaysOutOfTheConversation)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send (R"({"type":"session.update","session":{"type":"realtime","output_modalities":["text"]}})");
  ASSERT_NE (client->wait_for ("session.updated"), nullptr);
  client->send (kTextHello);
  client->send (R"({"type":"response.create"})");
  ASSERT_NE (client->wait_for ("response.done"), nullptr);

  const char *summary = R"({"type":"response.create","response":{"conversation":"none",)"
      R"("output_modalities":["text"],"instructions":"Summarise this call",)"
      R"("metadata":{"voxbridge_tag":"call-summary"}}})";
  for (int round = 1; round <= 2; round++) {
    client->send (summary);
    JsonObject *created = client->wait_for ("response.created");
    ASSERT_NE (created, nullptr) << "round " << round;
    EXPECT_EQ (str (path (created, {"response", "metadata"}), "voxbridge_tag"), "call-summary");
    JsonObject *text = client->wait_for ("response.output_text.done");
    ASSERT_NE (text, nullptr);
    /* The earlier summary was not added: still one caller turn, one reply. */
    EXPECT_EQ (str (text, "text").rfind ("Call summary: the caller spoke 1 time(s)", 0), 0u)
        << str (text, "text");
    EXPECT_NE (str (text, "text").find ("the assistant replied 1 time(s)"), std::string::npos)
        << str (text, "text");
    ASSERT_NE (client->wait_for ("response.done"), nullptr);
  }
  client->send (R"({"type":"response.create","response":{"conversation":"other"}})");
  JsonObject *error = client->wait_for ("error");
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (str (path (error, {"error"}), "param"), "response.conversation");
}

TEST (SimResponse, CancelAndTruncate)
{
  /* Real-time pacing and a long reply: the response is surely still running. */
  std::string long_reply = "This is a deliberately long reply so that the response keeps playing "
                           "while the test cancels it. One two three four five six seven eight "
                           "nine ten eleven twelve thirteen fourteen fifteen.";
  RealtimeSimProcess sim ({"--pace", "1", "--reply", long_reply});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);

  client->send (R"({"type":"response.cancel","event_id":"c0"})");
  JsonObject *not_active = client->wait_for ("error");
  ASSERT_NE (not_active, nullptr);
  EXPECT_EQ (str (path (not_active, {"error"}), "code"), "response_cancel_not_active");

  client->send (R"({"type":"response.create"})");
  JsonObject *delta = client->wait_for ("response.output_audio.delta", 30000);
  ASSERT_NE (delta, nullptr);
  std::string item_id = str (delta, "item_id");

  client->send (R"({"type":"response.create"})");
  JsonObject *busy = client->wait_for ("error");
  ASSERT_NE (busy, nullptr);
  EXPECT_EQ (str (path (busy, {"error"}), "code"), "conversation_already_has_active_response");

  client->send (R"({"type":"response.cancel"})");
  JsonObject *done = client->wait_for ("response.done");
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "cancelled");
  EXPECT_EQ (str (path (done, {"response", "status_details"}), "reason"), "client_cancelled");

  /* Everything sent arrived before response.done: the sim's bound is ours. */
  int64_t sent_ms = static_cast<int64_t> (client->audio_received ().size () / 48);
  ASSERT_GT (sent_ms, 0);

  client->send (std::string (R"({"type":"conversation.item.truncate","event_id":"t1","item_id":")") +
      item_id + R"(","content_index":0,"audio_end_ms":)" + std::to_string (sent_ms + 1000) + "}");
  JsonObject *beyond = client->wait_for ("error");
  ASSERT_NE (beyond, nullptr);
  EXPECT_EQ (str (path (beyond, {"error"}), "code"), "invalid_value");
  EXPECT_EQ (str (path (beyond, {"error"}), "event_id"), "t1");
  EXPECT_NE (str (path (beyond, {"error"}), "message").find ("is already shorter than"),
      std::string::npos);

  client->send (std::string (R"({"type":"conversation.item.truncate","item_id":")") + item_id +
      R"(","content_index":0,"audio_end_ms":)" + std::to_string (sent_ms) + "}");
  JsonObject *truncated = client->wait_for ("conversation.item.truncated");
  ASSERT_NE (truncated, nullptr);
  EXPECT_EQ (str (truncated, "item_id"), item_id);
  EXPECT_EQ (json_object_get_int_member (truncated, "audio_end_ms"), sent_ms);

  client->send (R"({"type":"conversation.item.truncate","item_id":"item_nope","content_index":0,"audio_end_ms":0})");
  JsonObject *unknown = client->wait_for ("error");
  ASSERT_NE (unknown, nullptr);
  EXPECT_EQ (str (path (unknown, {"error"}), "param"), "item_id");

  client->send (std::string (R"({"type":"conversation.item.delete","item_id":")") + item_id + "\"}");
  ASSERT_NE (client->wait_for ("conversation.item.deleted"), nullptr);

  sim.terminate ();
  EXPECT_NE (sim.log ().find ("cancels=1 truncates=1"), std::string::npos) << sim.log ();
}

TEST (SimResponse, SpeechInterruptsResponse)
{
  RealtimeSimProcess sim ({"--pace", "1", "--reply",
      "A long answer that keeps talking for several seconds so that the caller can barge in "
      "and the response gets interrupted by the voice activity detector."});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send (R"({"type":"response.create"})");
  ASSERT_NE (client->wait_for ("response.output_audio.delta", 30000), nullptr);

  send_in_chunks (*client, pcm_tone_then_silence (500, 0), 4800);
  ASSERT_NE (client->wait_for ("input_audio_buffer.speech_started"), nullptr);
  JsonObject *done = client->wait_for ("response.done");
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "cancelled");
  EXPECT_EQ (str (path (done, {"response", "status_details"}), "reason"), "turn_detected");
}

TEST (SimFunctionCall, RoundTrip)
{
  RealtimeSimProcess sim ({"--pace", "0", "--function-call", "get_weather",
      "--function-args", R"({"city":"Oslo"})"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);

  client->send (kTextHello);
  client->send (R"({"type":"response.create"})");
  JsonObject *added = client->wait_for ("response.output_item.added");
  ASSERT_NE (added, nullptr);
  EXPECT_EQ (str (path (added, {"item"}), "type"), "function_call");
  JsonObject *args = client->wait_for ("response.function_call_arguments.done");
  ASSERT_NE (args, nullptr);
  EXPECT_EQ (str (args, "name"), "get_weather");
  EXPECT_EQ (str (args, "arguments"), R"({"city":"Oslo"})");
  std::string call_id = str (args, "call_id");
  EXPECT_EQ (call_id.rfind ("call_", 0), 0u);
  ASSERT_NE (client->wait_for ("response.done"), nullptr);
  EXPECT_EQ (client->count ("response.output_audio.delta"), 0u);

  client->send (R"({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"call_unknown","output":"x"}})");
  JsonObject *error = client->wait_for ("error");
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (str (path (error, {"error"}), "param"), "item.call_id");

  client->send (std::string (R"({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":")") +
      call_id + R"(","output":"{\"temp_c\":7}"}})");
  ASSERT_NE (client->wait_for ("conversation.item.done"), nullptr);
  client->send (R"({"type":"response.create"})");
  JsonObject *transcript = client->wait_for ("response.output_audio_transcript.done");
  ASSERT_NE (transcript, nullptr);
  EXPECT_EQ (str (transcript, "transcript"), "The function returned: {\"temp_c\":7}");
  JsonObject *done = client->wait_for ("response.done");
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (str (path (done, {"response"}), "status"), "completed");
  EXPECT_GT (client->audio_received ().size (), 0u);
}

TEST (SimServer, WssWithSelfSignedCertificate)
{
  gchar *dir = g_dir_make_tmp ("voxbridge-sim-tls-XXXXXX", nullptr);
  ASSERT_NE (dir, nullptr);
  std::string cert = std::string (dir) + "/cert.pem", key = std::string (dir) + "/key.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                    "-keyout " + key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ (std::system (cmd.c_str ()), 0) << "openssl (package openssl) is needed";
  {
    RealtimeSimProcess sim ({"--tls-cert", cert, "--tls-key", key, "--behaviour", "echo"});
    ASSERT_TRUE (sim.started ()) << sim.log ();
    EXPECT_EQ (sim.url ().rfind ("wss://", 0), 0u);
    auto client = open_session (sim);
    ASSERT_TRUE (client->is_open ());
    std::vector<uint8_t> audio (4800, 7);
    client->send_append (audio);
    ASSERT_NE (client->wait_for ("response.output_audio.delta"), nullptr);
    EXPECT_EQ (client->audio_received (), audio);
  }
  g_unlink (cert.c_str ());
  g_unlink (key.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

TEST (SimServer, FiftyConcurrentEchoSessions)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  constexpr int kSessions = 50;
  std::vector<std::unique_ptr<WsTestClient>> clients;
  for (int i = 0; i < kSessions; i++) {
    clients.push_back (std::make_unique<WsTestClient> ());
    clients.back ()->connect_async (sim.url ());
  }
  ASSERT_TRUE (voxbridge::test::run_until ([&] {
    for (auto &c : clients)
      if (!c->connect_done ())
        return false;
    return true;
  }, 30000));

  std::vector<std::vector<uint8_t>> sent (kSessions);
  for (int i = 0; i < kSessions; i++) {
    ASSERT_TRUE (clients[i]->is_open ()) << "session " << i;
    for (int k = 0; k < 4800 * 5; k++)
      sent[i].push_back (static_cast<uint8_t> ((k + i * 13) & 0xff));
    send_in_chunks (*clients[i], sent[i], 4800);
  }
  ASSERT_TRUE (voxbridge::test::run_until ([&] {
    for (auto &c : clients)
      if (c->count ("response.output_audio.delta") < 5)
        return false;
    return true;
  }, 60000));
  for (int i = 0; i < kSessions; i++)
    EXPECT_EQ (clients[i]->audio_received (), sent[i]) << "session " << i;

  clients.clear ();  /* closes all */
  EXPECT_EQ (sim.terminate (), 0);
  std::string log = sim.log ();
  size_t closed = 0;
  for (size_t at = log.find (" closed: "); at != std::string::npos; at = log.find (" closed: ", at + 1))
    closed++;
  EXPECT_EQ (closed, static_cast<size_t> (kSessions)) << log;
}

TEST (SimServer, MaxSessionsGives503)
{
  RealtimeSimProcess sim ({"--max-sessions", "1"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto first = open_session (sim);
  WsTestClient second;
  EXPECT_FALSE (second.connect (sim.url ()));
  EXPECT_EQ (second.http_status (), 503u);
}

TEST (SimServer, SigtermExitsCleanlyAndLogsSessionCounts)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  client->send_append (std::vector<uint8_t> (960, 1));
  ASSERT_NE (client->wait_for ("response.output_audio.delta"), nullptr);
  EXPECT_EQ (sim.terminate (), 0);
  EXPECT_NE (sim.log ().find ("appends=1 bytes_in=960 deltas_out=1 responses=1"),
      std::string::npos) << sim.log ();
}

TEST (SimServer, KillNowDropsTheConnection)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  auto client = open_session (sim);
  sim.kill_now ();
  EXPECT_TRUE (voxbridge::test::run_until ([&] { return !client->is_open (); }, 10000));
}
