/* Unit tests of the sim's pure parts: VAD, audio formats, session.update
 * validation, client event parsing, upgrade request checks, options. */

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audio_format.h"
#include "protocol.h"
#include "replies.h"
#include "session_config.h"
#include "sim_options.h"
#include "upgrade_check.h"
#include "vad.h"

using namespace voxbridge::sim;

namespace {

std::vector<int16_t>
tone (int rate, int ms, double amplitude, double freq = 440.0)
{
  std::vector<int16_t> out (static_cast<size_t> (rate) * ms / 1000);
  for (size_t i = 0; i < out.size (); i++)
    out[i] = static_cast<int16_t> (amplitude * 32767.0 * std::sin (2 * M_PI * freq * i / rate));
  return out;
}

std::vector<int16_t>
silence (int rate, int ms)
{
  return std::vector<int16_t> (static_cast<size_t> (rate) * ms / 1000, 0);
}

JsonNodePtr
parse (const std::string &json)
{
  JsonParser *parser = json_parser_new ();
  EXPECT_TRUE (json_parser_load_from_data (parser, json.c_str (), -1, nullptr)) << json;
  JsonNodePtr root (json_node_copy (json_parser_get_root (parser)));
  g_object_unref (parser);
  return root;
}

}  // namespace

/* ---- VAD ---- */

TEST (EnergyVad, ThresholdMapsToLevel)
{
  EXPECT_DOUBLE_EQ (vad_threshold_to_dbfs (0.0), -60.0);
  EXPECT_DOUBLE_EQ (vad_threshold_to_dbfs (0.5), -35.0);
  EXPECT_DOUBLE_EQ (vad_threshold_to_dbfs (1.0), -10.0);
  EXPECT_DOUBLE_EQ (vad_threshold_to_dbfs (7.0), -10.0);
}

TEST (EnergyVad, ToneThenSilenceGivesStartAndStop)
{
  EnergyVad vad ({0.5, 300, 500}, 24000);
  std::vector<VadEvent> events;
  auto feed = [&] (const std::vector<int16_t> &s) {
    /* odd chunk size: frames must be assembled across calls */
    for (size_t i = 0; i < s.size (); i += 777) {
      auto ev = vad.process (s.data () + i, std::min<size_t> (777, s.size () - i));
      events.insert (events.end (), ev.begin (), ev.end ());
    }
  };
  feed (silence (24000, 1000));
  feed (tone (24000, 1000, 0.3));
  feed (silence (24000, 1000));

  ASSERT_EQ (events.size (), 2u);
  EXPECT_EQ (events[0].kind, VadEvent::Kind::kSpeechStarted);
  EXPECT_EQ (events[0].audio_ms, 1000 - 300);  /* first voiced frame minus padding */
  EXPECT_EQ (events[1].kind, VadEvent::Kind::kSpeechStopped);
  EXPECT_EQ (events[1].audio_ms, 2000 + 500);  /* end of tone plus silence duration */
  EXPECT_EQ (events[1].speech_ms, 1000);
  EXPECT_FALSE (vad.in_speech ());
}

TEST (EnergyVad, QuietSoundBelowThresholdIsNotSpeech)
{
  EnergyVad vad ({0.5, 300, 500}, 24000);
  auto quiet = tone (24000, 2000, 0.005);  /* about -49 dBFS RMS */
  EXPECT_TRUE (vad.process (quiet.data (), quiet.size ()).empty ());
  EnergyVad sensitive ({0.1, 300, 500}, 24000);  /* -55 dBFS */
  EXPECT_FALSE (sensitive.process (quiet.data (), quiet.size ()).empty ());
}

TEST (EnergyVad, ShortClickDoesNotStartSpeech)
{
  EnergyVad vad ({0.5, 0, 200}, 24000);
  auto click = tone (24000, 20, 0.5);  /* 2 frames < kStartFrames */
  auto quiet = silence (24000, 500);
  EXPECT_TRUE (vad.process (click.data (), click.size ()).empty ());
  EXPECT_TRUE (vad.process (quiet.data (), quiet.size ()).empty ());
}

TEST (EnergyVad, StartNeverBeforeZero)
{
  EnergyVad vad ({0.5, 300, 100}, 24000);
  auto t = tone (24000, 200, 0.3);
  auto ev = vad.process (t.data (), t.size ());
  ASSERT_EQ (ev.size (), 1u);
  EXPECT_EQ (ev[0].audio_ms, 0);
}

/* ---- audio formats ---- */

TEST (AudioFormat, ParsesTheThreeFormats)
{
  struct Case {
    const char *json;
    bool ok;
    AudioEncoding encoding;
    const char *bad_member;
  } cases[] = {
    {R"({"type":"audio/pcm","rate":24000})", true, AudioEncoding::kPcm16, ""},
    {R"({"type":"audio/pcm"})", true, AudioEncoding::kPcm16, ""},
    {R"({"type":"audio/pcmu"})", true, AudioEncoding::kPcmu, ""},
    {R"({"type":"audio/pcma"})", true, AudioEncoding::kPcma, ""},
    {R"({"type":"audio/pcm","rate":16000})", false, AudioEncoding::kPcm16, "rate"},
    {R"({"type":"audio/pcmu","rate":8000})", false, AudioEncoding::kPcm16, "rate"},
    {R"({"type":"audio/opus"})", false, AudioEncoding::kPcm16, "type"},
    {R"({"type":5})", false, AudioEncoding::kPcm16, "type"},
    {R"({})", false, AudioEncoding::kPcm16, "type"},
  };
  for (const Case &c : cases) {
    JsonNodePtr node = parse (c.json);
    AudioFormat format;
    std::string member, message;
    bool ok = audio_format_from_json (json_node_get_object (node.get ()), &format, &member,
        &message);
    EXPECT_EQ (ok, c.ok) << c.json;
    if (ok)
      EXPECT_EQ (format.encoding, c.encoding) << c.json;
    else
      EXPECT_EQ (member, c.bad_member) << c.json;
  }
}

TEST (AudioFormat, JsonRoundTrip)
{
  for (AudioEncoding e : {AudioEncoding::kPcm16, AudioEncoding::kPcmu, AudioEncoding::kPcma}) {
    AudioFormat in {e};
    JsonNodePtr node (audio_format_to_json (in));
    AudioFormat out;
    std::string member, message;
    ASSERT_TRUE (audio_format_from_json (json_node_get_object (node.get ()), &out, &member,
        &message));
    EXPECT_EQ (out, in);
  }
}

TEST (AudioFormat, PcmDecodeIsLittleEndianAndKeepsOddByte)
{
  AudioDecoder decoder (AudioFormat {AudioEncoding::kPcm16});
  const uint8_t first[] = {0x34, 0x12, 0xff};
  const uint8_t second[] = {0x7f};
  auto a = decoder.decode (first, sizeof (first));
  ASSERT_EQ (a.size (), 1u);
  EXPECT_EQ (a[0], 0x1234);
  auto b = decoder.decode (second, sizeof (second));
  ASSERT_EQ (b.size (), 1u);
  EXPECT_EQ (b[0], 0x7fff);
}

TEST (AudioFormat, PcmEncodeDecodeIsLossless)
{
  auto signal = tone (24000, 100, 0.5);
  AudioEncoder encoder (AudioFormat {AudioEncoding::kPcm16});
  auto bytes = encoder.encode (signal.data (), signal.size ());
  ASSERT_EQ (bytes.size (), signal.size () * 2);
  AudioDecoder decoder (AudioFormat {AudioEncoding::kPcm16});
  EXPECT_EQ (decoder.decode (bytes.data (), bytes.size ()), signal);
}

/* G.711 through 8 kHz: a 440 Hz tone survives with its level and length. */
TEST (AudioFormat, G711RoundTripKeepsToneAndLength)
{
  for (AudioEncoding e : {AudioEncoding::kPcmu, AudioEncoding::kPcma}) {
    auto signal = tone (24000, 1000, 0.5);
    auto coded = encode_all (signal, AudioFormat {e});
    EXPECT_EQ (coded.size (), 8000u) << "one byte per 8 kHz sample";

    AudioDecoder decoder (AudioFormat {e});
    auto decoded = decoder.decode (coded.data (), coded.size ());
    EXPECT_NEAR (static_cast<double> (decoded.size ()), 24000.0, 200.0);
    /* Compare RMS over the steady middle part. */
    double sum_in = 0, sum_out = 0;
    for (size_t i = 6000; i < 18000; i++) {
      sum_in += static_cast<double> (signal[i]) * signal[i];
      sum_out += static_cast<double> (decoded[i]) * decoded[i];
    }
    EXPECT_NEAR (std::sqrt (sum_out / sum_in), 1.0, 0.1);
  }
}

TEST (AudioFormat, ResampleAllKeepsDuration)
{
  auto espeak_like = tone (22050, 500, 0.3);
  auto out = resample_all (espeak_like, 22050, 24000);
  EXPECT_EQ (out.size (), 12000u);
  EXPECT_EQ (bytes_to_ms (4800, AudioFormat {AudioEncoding::kPcm16}), 100);
  EXPECT_EQ (bytes_to_ms (800, AudioFormat {AudioEncoding::kPcmu}), 100);
}

/* ---- session.update validation ---- */

struct UpdateCase {
  const char *session_json;
  const char *code;  /* nullptr = accepted */
  const char *param;
};

class SessionUpdate : public ::testing::TestWithParam<UpdateCase> {};

TEST_P (SessionUpdate, ValidatesLikeTheService)
{
  const UpdateCase &c = GetParam ();
  SessionConfig config;
  config.id = "sess_x";
  JsonNodePtr node = parse (c.session_json);
  ProtocolError error;
  bool ok = apply_session_update (&config, json_node_get_object (node.get ()), &error);
  if (!c.code) {
    EXPECT_TRUE (ok) << c.session_json << ": " << error.message;
  } else {
    EXPECT_FALSE (ok) << c.session_json;
    EXPECT_EQ (error.code, c.code) << c.session_json;
    EXPECT_EQ (error.param, c.param) << c.session_json;
  }
}

INSTANTIATE_TEST_SUITE_P (Table, SessionUpdate, ::testing::Values (
    UpdateCase {R"({"type":"realtime"})", nullptr, ""},
    UpdateCase {R"({"type":"realtime","instructions":"be brief","output_modalities":["text"]})", nullptr, ""},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":null},"output":{"format":{"type":"audio/pcma"},"voice":"marin"}}})", nullptr, ""},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"turn_detection":{"type":"semantic_vad","eagerness":"high"},"transcription":{"model":"whisper-1"},"noise_reduction":{"type":"near_field"}}}})", nullptr, ""},
    UpdateCase {R"({"type":"realtime","tools":[{"type":"function","name":"f","parameters":{}}],"tool_choice":"required"})", nullptr, ""},
    UpdateCase {R"({})", "missing_required_parameter", "session.type"},
    UpdateCase {R"({"type":"transcription"})", "invalid_value", "session.type"},
    UpdateCase {R"({"type":"realtime","bogus":1})", "unknown_parameter", "session.bogus"},
    UpdateCase {R"({"type":"realtime","output_modalities":["audio","text"]})", "invalid_value", "session.output_modalities"},
    UpdateCase {R"({"type":"realtime","instructions":5})", "invalid_type", "session.instructions"},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"format":{"type":"audio/g729"}}}})", "invalid_value", "session.audio.input.format.type"},
    UpdateCase {R"({"type":"realtime","audio":{"output":{"format":{"type":"audio/pcm","rate":16000}}}})", "invalid_value", "session.audio.output.format.rate"},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"turn_detection":{"type":"push_to_talk"}}}})", "invalid_value", "session.audio.input.turn_detection.type"},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":1.5}}}})", "invalid_value", "session.audio.input.turn_detection.threshold"},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","silence_duration_ms":"x"}}}})", "invalid_type", "session.audio.input.turn_detection.silence_duration_ms"},
    UpdateCase {R"({"type":"realtime","audio":{"input":{"transcription":{}}}})", "missing_required_parameter", "session.audio.input.transcription.model"},
    UpdateCase {R"({"type":"realtime","audio":{"output":{"voice":"hal9000"}}})", "invalid_value", "session.audio.output.voice"},
    UpdateCase {R"({"type":"realtime","tools":[{"type":"web","name":"f"}]})", "invalid_value", "session.tools[0].type"},
    UpdateCase {R"({"type":"realtime","tool_choice":"sometimes"})", "invalid_value", "session.tool_choice"}));

TEST (SessionConfig, FailedUpdateLeavesConfigUnchanged)
{
  SessionConfig config;
  JsonNodePtr node = parse (
      R"({"type":"realtime","instructions":"new","audio":{"output":{"voice":"nope"}}})");
  ProtocolError error;
  ASSERT_FALSE (apply_session_update (&config, json_node_get_object (node.get ()), &error));
  EXPECT_NE (config.instructions, "new");
}

TEST (SessionConfig, DefaultsSerialiseAsTheServiceDoes)
{
  SessionConfig config;
  config.id = "sess_1";
  config.model = "gpt-realtime";
  JsonNodePtr node (node_from_object (session_to_json (config)));
  JsonObject *s = json_node_get_object (node.get ());
  EXPECT_STREQ (json_object_get_string_member (s, "type"), "realtime");
  EXPECT_STREQ (json_object_get_string_member (s, "model"), "gpt-realtime");
  JsonObject *input = json_object_get_object_member (
      json_object_get_object_member (s, "audio"), "input");
  JsonObject *format = json_object_get_object_member (input, "format");
  EXPECT_STREQ (json_object_get_string_member (format, "type"), "audio/pcm");
  EXPECT_EQ (json_object_get_int_member (format, "rate"), 24000);
  JsonObject *td = json_object_get_object_member (input, "turn_detection");
  EXPECT_STREQ (json_object_get_string_member (td, "type"), "server_vad");
  EXPECT_DOUBLE_EQ (json_object_get_double_member (td, "threshold"), 0.5);
  EXPECT_EQ (json_object_get_int_member (td, "prefix_padding_ms"), 300);
  EXPECT_EQ (json_object_get_int_member (td, "silence_duration_ms"), 500);
  EXPECT_TRUE (json_object_get_boolean_member (td, "create_response"));
  EXPECT_TRUE (json_object_get_boolean_member (td, "interrupt_response"));
  JsonObject *output = json_object_get_object_member (
      json_object_get_object_member (s, "audio"), "output");
  EXPECT_STREQ (json_object_get_string_member (output, "voice"), "alloy");
  EXPECT_EQ (json_array_get_length (json_object_get_array_member (s, "tools")), 0u);
}

/* ---- client events ---- */

TEST (ClientEvent, ParseErrors)
{
  struct Case {
    const char *text;
    const char *code;
    const char *event_id;
  } cases[] = {
    {"{not json", "invalid_json", nullptr},
    {"[1,2]", "invalid_json", nullptr},
    {R"({"event_id":"e1"})", "missing_required_parameter", "e1"},
    {R"({"type":7,"event_id":"e2"})", "invalid_type", "e2"},
    {R"({"type":"x","event_id":3})", "invalid_type", nullptr},
  };
  for (const Case &c : cases) {
    ClientEvent event;
    ProtocolError error;
    EXPECT_FALSE (parse_client_event (c.text, strlen (c.text), &event, &error)) << c.text;
    EXPECT_EQ (error.code, c.code) << c.text;
    if (c.event_id)
      EXPECT_EQ (event.event_id.value_or (""), c.event_id) << c.text;
    else
      EXPECT_FALSE (event.event_id.has_value ()) << c.text;
  }
  const char *good = R"({"type":"response.create","event_id":"ev"})";
  ClientEvent event;
  ProtocolError error;
  ASSERT_TRUE (parse_client_event (good, strlen (good), &event, &error));
  EXPECT_EQ (event.type, "response.create");
  EXPECT_EQ (*event.event_id, "ev");
}

TEST (ClientEvent, ErrorEventShape)
{
  JsonNodePtr node (node_from_object (make_error_event (
      {"invalid_value", "bad", "session.type"}, std::string ("e9"))));
  JsonObject *ev = json_node_get_object (node.get ());
  EXPECT_STREQ (json_object_get_string_member (ev, "type"), "error");
  JsonObject *err = json_object_get_object_member (ev, "error");
  EXPECT_STREQ (json_object_get_string_member (err, "type"), "invalid_request_error");
  EXPECT_STREQ (json_object_get_string_member (err, "code"), "invalid_value");
  EXPECT_STREQ (json_object_get_string_member (err, "param"), "session.type");
  EXPECT_STREQ (json_object_get_string_member (err, "event_id"), "e9");

  JsonNodePtr no_param (node_from_object (make_error_event ({"x", "y", ""}, std::nullopt)));
  JsonObject *err2 = json_object_get_object_member (json_node_get_object (no_param.get ()), "error");
  EXPECT_TRUE (json_object_get_null_member (err2, "param"));
  EXPECT_TRUE (json_object_get_null_member (err2, "event_id"));
}

TEST (Ids, HavePrefixAndAreUnique)
{
  std::string a = new_id ("resp"), b = new_id ("resp");
  EXPECT_EQ (a.rfind ("resp_", 0), 0u);
  EXPECT_EQ (a.size (), 5u + 22u);
  EXPECT_NE (a, b);
}

/* ---- upgrade requests ---- */

TEST (UpgradeCheck, Table)
{
  const std::optional<std::string> key = std::string ("sk-good");
  struct Case {
    UpgradeRequest request;
    std::optional<std::string> expected_key;
    unsigned status;
    const char *body_has;
  } cases[] = {
    {{"/v1/realtime", "model=gpt-realtime", std::string ("Bearer sk-good"), std::nullopt}, key, 0, ""},
    {{"/openai/v1/realtime", "model=dep", std::nullopt, std::string ("sk-good")}, key, 0, ""},
    {{"/v1/realtime", "model=m", std::string ("Bearer sk-bad"), std::nullopt}, key, 401, "invalid_api_key"},
    {{"/v1/realtime", "model=m", std::nullopt, std::string ("sk-bad")}, key, 401, "Incorrect API key"},
    {{"/v1/realtime", "model=m", std::nullopt, std::nullopt}, key, 401, "invalid_api_key"},
    {{"/v1/realtime", "model=m", std::string ("Basic sk-good"), std::nullopt}, key, 401, "invalid_api_key"},
    {{"/v1/realtime", "model=m", std::nullopt, std::nullopt}, std::nullopt, 0, ""},
    {{"/openai/v1/realtime", "model=d&api-version=2025-04-01-preview", std::nullopt, std::string ("sk-good")}, key, 401, "api-version"},
    {{"/openai/v1/realtime", "model=d&api-version=x", std::nullopt, std::nullopt}, std::nullopt, 401, "api-version"},
    {{"/v1/realtime", "", std::string ("Bearer sk-good"), std::nullopt}, key, 400, "missing_required_parameter"},
    {{"/v1/realtime", "voice=alloy", std::nullopt, std::nullopt}, std::nullopt, 400, "'model'"},
    {{"/v2/realtime", "model=m", std::nullopt, std::nullopt}, std::nullopt, 404, "Invalid URL"},
  };
  for (const Case &c : cases) {
    UpgradeVerdict v = check_upgrade_request (c.request, c.expected_key);
    std::string what = c.request.path + "?" + c.request.query;
    EXPECT_EQ (v.status, c.status) << what;
    EXPECT_NE (v.body.find (c.body_has), std::string::npos) << what << " " << v.body;
    if (v.status) {
      JsonNodePtr body = parse (v.body);
      EXPECT_TRUE (json_object_has_member (json_node_get_object (body.get ()), "error"));
    }
  }
  EXPECT_EQ (check_upgrade_request ({"/openai/v1/realtime", "model=dep", std::nullopt, std::nullopt},
                 std::nullopt).model, "dep");
}

/* ---- options and replies ---- */

static bool
parse_args (std::vector<std::string> args, SimOptions *out, std::string *error)
{
  args.insert (args.begin (), "voxbridge-realtime-sim");
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back (a.data ());
  argv.push_back (nullptr);
  return parse_sim_options (static_cast<int> (args.size ()), argv.data (), out, error);
}

TEST (SimOptions, ParsesAndValidates)
{
  SimOptions o;
  std::string error;
  ASSERT_TRUE (parse_args ({"--port", "0", "--behaviour", "parrot", "--reply", "one", "--reply",
                   "two", "--pace", "0", "--delta-ms", "20", "--function-call", "f",
                   "--function-args", "{\"a\":1}", "--api-key", "k"},
      &o, &error)) << error;
  EXPECT_EQ (o.behaviour, Behaviour::kParrot);
  EXPECT_EQ (o.replies, (std::vector<std::string> {"one", "two"}));
  EXPECT_EQ (o.pace, 0.0);
  EXPECT_EQ (o.delta_ms, 20);
  EXPECT_EQ (*o.function_call, "f");
  EXPECT_EQ (*o.api_key, "k");

  for (std::vector<std::string> bad : std::vector<std::vector<std::string>> {
           {"--behaviour", "sing"}, {"--pace", "-1"}, {"--delta-ms", "0"},
           {"--tls-cert", "c.pem"}, {"--function-args", "{oops"}, {"--port", "70000"},
           {"stray"}}) {
    SimOptions x;
    std::string err;
    EXPECT_FALSE (parse_args (bad, &x, &err)) << bad[0];
    EXPECT_FALSE (err.empty ()) << bad[0];
  }
}

TEST (ReplyBook, UsesRepliesInTurnAndStatesWhatItKnows)
{
  ReplyBook book ({"first", "second"});
  EXPECT_EQ (book.reply_to_speech (1000), "first");
  EXPECT_EQ (book.reply_to_speech (1000), "second");
  EXPECT_EQ (book.reply_to_speech (1000), "first");

  ReplyBook plain ({});
  EXPECT_NE (plain.reply_to_speech (1800).find ("1.8 seconds"), std::string::npos);
  EXPECT_EQ (ReplyBook::reply_to_text ("hi"), "You wrote: hi");
  EXPECT_EQ (ReplyBook::reply_to_text ("Greet the caller by saying: \"Hello there.\""),
      "Hello there.");
  EXPECT_EQ (ReplyBook::reply_to_text ("saying: \"\" and then"),
      "You wrote: saying: \"\" and then");
  EXPECT_EQ (ReplyBook::reply_to_function_output ("{\"t\":5}"), "The function returned: {\"t\":5}");
  EXPECT_EQ (speech_placeholder_transcript (1840), "[speech 1.8 s]");
}
