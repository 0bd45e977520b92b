/* Table tests of the Realtime GA event encoding and decoding. */
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include "realtime_protocol.h"

using namespace voxbridge::realtime;

namespace {

/* Parses @text and returns the node at @path ("$.session.audio.input.format.type"). */
std::string
json_path_string (const std::string & text, const char *path)
{
  GError *err = nullptr;
  JsonNode *root = json_from_string (text.c_str (), &err);
  if (!root) {
    std::string m = err->message;
    g_error_free (err);
    return "<invalid json: " + m + ">";
  }
  JsonNode *res = json_path_query (path, root, nullptr);
  std::string out = "<missing>";
  JsonArray *arr = json_node_get_array (res);
  if (json_array_get_length (arr) == 1) {
    JsonNode *n = json_array_get_element (arr, 0);
    if (JSON_NODE_HOLDS_NULL (n))
      out = "null";
    else if (JSON_NODE_HOLDS_VALUE (n)) {
      GType t = json_node_get_value_type (n);
      if (t == G_TYPE_STRING)
        out = json_node_get_string (n);
      else if (t == G_TYPE_INT64)
        out = std::to_string (json_node_get_int (n));
      else if (t == G_TYPE_BOOLEAN)
        out = json_node_get_boolean (n) ? "true" : "false";
      else if (t == G_TYPE_DOUBLE) {
        char buf[32];
        g_ascii_formatd (buf, sizeof buf, "%g", json_node_get_double (n));
        out = buf;
      }
    } else {
      gchar *s = json_to_string (n, FALSE);
      out = s;
      g_free (s);
    }
  }
  json_node_unref (res);
  json_node_unref (root);
  return out;
}

struct UpdateCase {
  const char *name;
  SessionOptions options;
  std::vector<std::pair<const char *, const char *>> expect;
};

SessionOptions
with (void (*fn) (SessionOptions &))
{
  SessionOptions o;
  fn (o);
  return o;
}

}  // namespace

TEST (RealtimeProtocol, SessionUpdateTable)
{
  const UpdateCase cases[] = {
    {"defaults: pcm 24k both ways, server vad", SessionOptions (), {
        {"$.type", "session.update"},
        {"$.event_id", "ev1"},
        {"$.session.type", "realtime"},
        {"$.session.output_modalities[0]", "audio"},
        {"$.session.audio.input.format.type", "audio/pcm"},
        {"$.session.audio.input.format.rate", "24000"},
        {"$.session.audio.output.format.type", "audio/pcm"},
        {"$.session.audio.input.turn_detection.type", "server_vad"},
        {"$.session.audio.input.turn_detection.threshold", "0.5"},
        {"$.session.audio.input.turn_detection.silence_duration_ms", "500"},
        {"$.session.audio.input.turn_detection.prefix_padding_ms", "300"},
        {"$.session.audio.input.turn_detection.interrupt_response", "true"},
        {"$.session.audio.input.transcription", "null"},
        {"$.session.audio.input.noise_reduction", "null"},
        {"$.session.instructions", "<missing>"},
        {"$.session.audio.output.voice", "<missing>"},
        {"$.session.tools", "<missing>"}}},
    {"g711 passthrough: pcmu in, pcma out, no rate", with ([] (SessionOptions & o) {
          o.input_format = AudioFormat::kPcmu;
          o.output_format = AudioFormat::kPcma;
        }), {
        {"$.session.audio.input.format.type", "audio/pcmu"},
        {"$.session.audio.input.format.rate", "<missing>"},
        {"$.session.audio.output.format.type", "audio/pcma"}}},
    {"semantic vad with eagerness", with ([] (SessionOptions & o) {
          o.turn_detection.type = TurnDetectionType::kSemanticVad;
          o.turn_detection.eagerness = "high";
          o.turn_detection.create_response = false;
        }), {
        {"$.session.audio.input.turn_detection.type", "semantic_vad"},
        {"$.session.audio.input.turn_detection.eagerness", "high"},
        {"$.session.audio.input.turn_detection.threshold", "<missing>"},
        {"$.session.audio.input.turn_detection.create_response", "false"}}},
    {"no turn detection is null", with ([] (SessionOptions & o) {
          o.turn_detection.type = TurnDetectionType::kNone;
        }), {{"$.session.audio.input.turn_detection", "null"}}},
    {"text output, transcription, voice, instructions, noise reduction",
        with ([] (SessionOptions & o) {
          o.output_audio = false;
          o.transcription_model = "gpt-4o-transcribe";
          o.transcription_language = "de";
          o.voice = "marin";
          o.instructions = "Say \"hi\"\n";
          o.noise_reduction = NoiseReduction::kFarField;
        }), {
        {"$.session.output_modalities[0]", "text"},
        {"$.session.audio.input.transcription.model", "gpt-4o-transcribe"},
        {"$.session.audio.input.transcription.language", "de"},
        {"$.session.audio.output.voice", "marin"},
        {"$.session.instructions", "Say \"hi\"\n"},
        {"$.session.audio.input.noise_reduction.type", "far_field"}}},
    {"tools are embedded as JSON, not as a string", with ([] (SessionOptions & o) {
          o.tools_json = R"([{"type":"function","name":"end_call","parameters":{}}])";
        }), {
        {"$.session.tools[0].name", "end_call"},
        {"$.session.tools[0].type", "function"},
        {"$.session.tool_choice", "auto"}}},
  };
  for (const auto & c : cases) {
    std::string json = encode_session_update (c.options, "ev1");
    for (const auto & [path, value] : c.expect)
      EXPECT_EQ (json_path_string (json, path), value) << c.name << " at " << path << "\n" << json;
  }
}

TEST (RealtimeProtocol, AppendIsBase64OfTheAudio)
{
  const struct { std::vector<guint8> audio; const char *b64; } cases[] = {
    {{}, ""},
    {{0xff}, "/w=="},
    {{0xff, 0x7f}, "/38="},
    {{0x00, 0x01, 0x02}, "AAEC"},
    {{'v', 'o', 'x', 'b', 'r', 'i', 'd', 'g', 'e'}, "dm94YnJpZGdl"},
  };
  for (const auto & c : cases) {
    std::string json = encode_input_audio_append (c.audio.data (), c.audio.size ());
    EXPECT_EQ (json_path_string (json, "$.type"), "input_audio_buffer.append");
    EXPECT_EQ (json_path_string (json, "$.audio"), c.b64);
  }
  /* A large buffer round-trips byte for byte. */
  std::vector<guint8> big (48000);
  for (size_t i = 0; i < big.size (); i++)
    big[i] = (guint8) (i * 7);
  std::string json = encode_input_audio_append (big.data (), big.size ());
  gsize len = 0;
  guchar *decoded = g_base64_decode (json_path_string (json, "$.audio").c_str (), &len);
  ASSERT_EQ (len, big.size ());
  EXPECT_EQ (memcmp (decoded, big.data (), len), 0);
  g_free (decoded);
}

TEST (RealtimeProtocol, ClientEventsTable)
{
  const struct { std::string json; std::vector<std::pair<const char *, const char *>> expect; } cases[] = {
    {encode_item_truncate ("item_9", 0, 1540, "e2"), {
        {"$.type", "conversation.item.truncate"}, {"$.item_id", "item_9"},
        {"$.content_index", "0"}, {"$.audio_end_ms", "1540"}, {"$.event_id", "e2"}}},
    {encode_response_cancel ("e3"), {{"$.type", "response.cancel"}}},
    {encode_response_create (""), {{"$.type", "response.create"}, {"$.event_id", "<missing>"}}},
    {encode_input_audio_commit ("e4"), {{"$.type", "input_audio_buffer.commit"}}},
    {encode_function_call_output ("call_1", "{\"ok\":true}", "e5"), {
        {"$.type", "conversation.item.create"}, {"$.item.type", "function_call_output"},
        {"$.item.call_id", "call_1"}, {"$.item.output", "{\"ok\":true}"}}},
    {encode_user_text ("caller pressed 5", "e6"), {
        {"$.item.type", "message"}, {"$.item.role", "user"},
        {"$.item.content[0].type", "input_text"}, {"$.item.content[0].text", "caller pressed 5"}}},
    {encode_text_response_create ("Summarise this call", "summary", "e7"), {
        {"$.type", "response.create"}, {"$.event_id", "e7"},
        {"$.response.conversation", "none"}, {"$.response.output_modalities[0]", "text"},
        {"$.response.instructions", "Summarise this call"},
        {"$.response.metadata.voxbridge_tag", "summary"}}},
  };
  for (const auto & c : cases)
    for (const auto & [path, value] : c.expect)
      EXPECT_EQ (json_path_string (c.json, path), value) << c.json;
}

TEST (RealtimeProtocol, DecodeServerEventsTable)
{
  struct Case {
    const char *json;
    ServerEventType type;
    void (*check) (const ServerEvent &);
  };
  const Case cases[] = {
    {R"({"type":"session.created","event_id":"e","session":{"id":"sess_1","model":"gpt-realtime"}})",
        ServerEventType::kSessionCreated, [] (const ServerEvent & e) {
          EXPECT_EQ (e.session_id, "sess_1"); EXPECT_EQ (e.model, "gpt-realtime"); }},
    {R"({"type":"input_audio_buffer.speech_started","audio_start_ms":1200,"item_id":"it_1"})",
        ServerEventType::kSpeechStarted, [] (const ServerEvent & e) {
          EXPECT_EQ (e.audio_start_ms, 1200u); EXPECT_EQ (e.item_id, "it_1"); }},
    {R"({"type":"input_audio_buffer.speech_stopped","audio_end_ms":2500,"item_id":"it_1"})",
        ServerEventType::kSpeechStopped, [] (const ServerEvent & e) {
          EXPECT_EQ (e.audio_end_ms, 2500u); }},
    {R"({"type":"response.output_audio.delta","response_id":"r1","item_id":"i1","content_index":0,"delta":"AAEC"})",
        ServerEventType::kOutputAudioDelta, [] (const ServerEvent & e) {
          EXPECT_EQ (e.audio, (std::vector<guint8> {0, 1, 2})); EXPECT_EQ (e.response_id, "r1");
          EXPECT_EQ (e.item_id, "i1"); }},
    {R"({"type":"response.output_audio_transcript.done","item_id":"i1","transcript":"Hello there."})",
        ServerEventType::kOutputAudioTranscriptDone, [] (const ServerEvent & e) {
          EXPECT_EQ (e.text, "Hello there."); }},
    {R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"u1","transcript":"hi"})",
        ServerEventType::kInputTranscriptionCompleted, [] (const ServerEvent & e) {
          EXPECT_EQ (e.text, "hi"); EXPECT_EQ (e.item_id, "u1"); }},
    {R"({"type":"response.output_text.delta","delta":"Sugg"})",
        ServerEventType::kOutputTextDelta, [] (const ServerEvent & e) { EXPECT_EQ (e.text, "Sugg"); }},
    {R"({"type":"response.done","response":{"id":"r1","status":"cancelled","status_details":{"reason":"turn_detected"},"usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}})",
        ServerEventType::kResponseDone, [] (const ServerEvent & e) {
          EXPECT_EQ (e.response_id, "r1"); EXPECT_EQ (e.status, "cancelled");
          EXPECT_EQ (e.status_reason, "turn_detected"); EXPECT_EQ (e.total_tokens, 30);
          EXPECT_EQ (e.input_tokens, 10); EXPECT_EQ (e.output_tokens, 20); }},
    {R"({"type":"response.done","response":{"id":"r2","status":"completed"}})",
        ServerEventType::kResponseDone, [] (const ServerEvent & e) {
          EXPECT_EQ (e.total_tokens, -1); }},
    {R"({"type":"response.function_call_arguments.done","call_id":"call_1","name":"end_call","arguments":"{\"reason\":\"bye\"}"})",
        ServerEventType::kFunctionCallArgumentsDone, [] (const ServerEvent & e) {
          EXPECT_EQ (e.call_id, "call_1"); EXPECT_EQ (e.name, "end_call");
          EXPECT_EQ (e.arguments, "{\"reason\":\"bye\"}"); }},
    {R"({"type":"rate_limits.updated","rate_limits":[{"name":"requests","limit":1000,"remaining":999,"reset_seconds":0.06},{"name":"tokens","limit":50000,"remaining":49000,"reset_seconds":1}]})",
        ServerEventType::kRateLimitsUpdated, [] (const ServerEvent & e) {
          ASSERT_EQ (e.rate_limits.size (), 2u); EXPECT_EQ (e.rate_limits[1].name, "tokens");
          EXPECT_EQ (e.rate_limits[1].remaining, 49000); EXPECT_DOUBLE_EQ (e.rate_limits[0].reset_seconds, 0.06); }},
    {R"({"type":"error","event_id":"x","error":{"type":"invalid_request_error","code":"invalid_value","message":"Audio content of 100ms is already shorter than 200ms","param":"audio_end_ms","event_id":"vb_3"}})",
        ServerEventType::kError, [] (const ServerEvent & e) {
          EXPECT_EQ (e.error_code, "invalid_value"); EXPECT_EQ (e.error_param, "audio_end_ms");
          EXPECT_EQ (e.error_event_id, "vb_3");
          EXPECT_NE (e.error_message.find ("shorter"), std::string::npos); }},
    {R"({"type":"conversation.item.truncated","item_id":"i1","content_index":0,"audio_end_ms":640})",
        ServerEventType::kItemTruncated, [] (const ServerEvent & e) { EXPECT_EQ (e.audio_end_ms, 640u); }},
    {R"({"type":"response.output_item.added","item":{}})", ServerEventType::kOther,
        [] (const ServerEvent & e) { EXPECT_EQ (e.type_name, "response.output_item.added"); }},
    /* Wrong field types are ignored, not crashes. */
    {R"({"type":"input_audio_buffer.speech_started","audio_start_ms":"soon","item_id":5})",
        ServerEventType::kSpeechStarted, [] (const ServerEvent & e) {
          EXPECT_EQ (e.audio_start_ms, 0u); EXPECT_EQ (e.item_id, ""); }},
    {R"({"type":"response.output_audio.delta","delta":"!!not base64!!"})",
        ServerEventType::kOutputAudioDelta, [] (const ServerEvent &) {}},
    {R"({"type":"response.done","response":"nope"})", ServerEventType::kResponseDone,
        [] (const ServerEvent & e) { EXPECT_EQ (e.response_id, ""); }},
  };
  for (const auto & c : cases) {
    std::string error;
    auto ev = decode_server_event (c.json, strlen (c.json), &error);
    ASSERT_TRUE (ev.has_value ()) << c.json << ": " << error;
    EXPECT_EQ (ev->type, c.type) << c.json;
    c.check (*ev);
  }
}

TEST (RealtimeProtocol, ResponseTagComesBackFromMetadata)
{
  std::string error;
  const char *created = R"({"type":"response.created","response":{"id":"resp_9",)"
      R"("status":"in_progress","metadata":{"voxbridge_tag":"summary"}}})";
  auto tagged = decode_server_event (created, strlen (created), &error);
  ASSERT_TRUE (tagged) << error;
  EXPECT_EQ (tagged->response_id, "resp_9");
  EXPECT_EQ (tagged->response_tag, "summary");
  const char *done = R"({"type":"response.done","response":{"id":"resp_1",)"
      R"("status":"completed","metadata":null}})";
  auto plain = decode_server_event (done, strlen (done), &error);
  ASSERT_TRUE (plain) << error;
  EXPECT_EQ (plain->response_tag, "");
}

TEST (RealtimeProtocol, DecodeRejectsNonEvents)
{
  const char *bad[] = {"", "{", "[]", "42", "\"type\"", "{\"type\":7}", "{\"event_id\":\"x\"}",
      "{\"type\":\"\"}", "\xff\xfe{}"};
  for (const char *text : bad) {
    std::string error;
    EXPECT_FALSE (decode_server_event (text, strlen (text), &error).has_value ()) << text;
    EXPECT_FALSE (error.empty ()) << text;
  }
}

TEST (RealtimeProtocol, ToolsValidation)
{
  const struct { const char *json; bool ok; } cases[] = {
    {"[]", true},
    {R"([{"type":"function","name":"lookup","parameters":{"type":"object"}}])", true},
    {"{}", false},
    {"[1]", false},
    {R"([{"type":"function"}])", false},
    {"[{", false},
  };
  for (const auto & c : cases) {
    std::string error;
    EXPECT_EQ (validate_tools_json (c.json, &error), c.ok) << c.json;
    EXPECT_EQ (error.empty (), c.ok) << c.json;
  }
}

TEST (RealtimeProtocol, FormatFacts)
{
  EXPECT_EQ (audio_format_bytes_per_ms (AudioFormat::kPcm24k), 48u);
  EXPECT_EQ (audio_format_bytes_per_ms (AudioFormat::kPcmu), 8u);
  EXPECT_EQ (audio_format_silence_byte (AudioFormat::kPcmu), 0xff);
  EXPECT_EQ (audio_format_silence_byte (AudioFormat::kPcma), 0xd5);
  EXPECT_EQ (audio_format_silence_byte (AudioFormat::kPcm24k), 0);
  EXPECT_STREQ (audio_format_type (AudioFormat::kPcma), "audio/pcma");
}
