/* Real graphs against voxbridge-realtime-sim on loopback: the PCM 24 kHz
 * conversation, G.711 passthrough, barge-in, a function call round trip,
 * authentication, and a server that dies mid-session. */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <cmath>
#include <cstdlib>

#include "pipeline_runner.h"
#include "realtime_sim_process.h"

using voxbridge::test::PipelineRunner;
using voxbridge::test::RealtimeSimProcess;

namespace {

constexpr GstClockTime kWait = 20 * GST_SECOND;

/* Pushes @ms of a 440 Hz tone (speech for the sim's VAD) or silence as
 * 20 ms buffers of S16LE 24 kHz mono into @appsrc. */
void
push_pcm (GstElement * appsrc, GstClockTime * ts, guint ms, bool tone)
{
  for (guint done = 0; done < ms; done += 20) {
    GstBuffer *buf = gst_buffer_new_allocate (nullptr, 960, nullptr);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    gint16 *samples = reinterpret_cast<gint16 *> (map.data);
    for (int i = 0; i < 480; i++) {
      double t = (double) (*ts / GST_USECOND) / 1e6 + i / 24000.0;
      samples[i] = tone ? (gint16) (9000 * std::sin (2 * M_PI * 440 * t)) : 0;
    }
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = *ts;
    GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
    *ts += 20 * GST_MSECOND;
    ASSERT_EQ (gst_app_src_push_buffer (GST_APP_SRC (appsrc), buf), GST_FLOW_OK);
  }
}

std::string
pcm_graph (const std::string & session, const std::string & url, const std::string & sink_props,
    const std::string & src_props)
{
  return "appsrc name=in format=time caps=audio/x-raw,format=S16LE,rate=24000,channels=1,"
      "layout=interleaved ! realtimesink name=rt sync=false session=" + session + " url=\"" + url
      + "\" " + sink_props + " realtimesrc name=play session=" + session + " " + src_props
      /* realtimesrc pushes from the sessions' shared thread: a sink that
       * prerolls goes behind a queue. */
      + " ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! fakesink sync=false";
}

guint64
played_ms (PipelineRunner & r)
{
  GstElement *src = r.by_name ("play");
  guint64 ms = 0;
  g_object_get (src, "played-ms", &ms, NULL);
  gst_object_unref (src);
  return ms;
}

std::string
field (const GstStructure * s, const char *name)
{
  const char *v = s ? gst_structure_get_string (s, name) : nullptr;
  return v ? v : "";
}

}  // namespace

TEST (RealtimeIntegration, Pcm24kConversation)
{
  RealtimeSimProcess sim ({"--behaviour", "speak", "--reply", "The store opens at nine."});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("pcm", sim.url (), "transcription-model=whisper-1", "num-responses=1"));
  ASSERT_TRUE (r.ok ()) << r.errors ();
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *in = r.by_name ("in");
  GstClockTime ts = 0;
  push_pcm (in, &ts, 1200, true);
  gst_app_src_end_of_stream (GST_APP_SRC (in));   /* the sink pads the turn with silence */
  gst_object_unref (in);

  ASSERT_TRUE (r.wait_eos (kWait)) << r.errors () << sim.log ();
  EXPECT_EQ (r.errors (), "");
  EXPECT_EQ (r.count ("realtime-speech-started"), 1);
  EXPECT_EQ (r.count ("realtime-speech-stopped"), 1);
  GstStructure *done = r.wait_element ("realtime-response-done", 0);
  ASSERT_NE (done, nullptr);
  EXPECT_EQ (field (done, "status"), "completed");
  bool saw_input = false, saw_output = false;
  for (GstStructure *s : r.element_messages ()) {
    gboolean final = FALSE;
    gst_structure_get_boolean (s, "final", &final);
    if (gst_structure_has_name (s, "realtime-input-transcript") && final)
      saw_input = !field (s, "text").empty ();
    if (gst_structure_has_name (s, "realtime-output-transcript") && final) {
      saw_output = true;
      EXPECT_EQ (field (s, "text"), "The store opens at nine.");
    }
  }
  EXPECT_TRUE (saw_input);
  EXPECT_TRUE (saw_output);
  /* The spoken answer really left realtimesrc (espeak: well over half a second). */
  EXPECT_GT (played_ms (r), 500u);
}

namespace {

guint64
uint64_property (PipelineRunner & r, const char *element, const char *name)
{
  GstElement *e = r.by_name (element);
  guint64 value = 0;
  g_object_get (e, name, &value, NULL);
  gst_object_unref (e);
  return value;
}

}  // namespace

TEST (RealtimeIntegration, Pcm24kAnswerReachesTheWireWhole)
{
  /* The shipped pcm24k leg: realtimesrc pushes the answer as it comes,
   * audioresample holds the last samples back until realtimesrc's empty
   * DISCONT buffer at the end of the item's audio, siprtpsink paces it out.
   * Every sample the model sent is sent on RTP, none left behind. */
  RealtimeSimProcess sim ({"--behaviour", "speak", "--reply", "The store opens at nine."});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  GSocket *peer = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any = g_inet_socket_address_new (lo, 0);
  ASSERT_TRUE (g_socket_bind (peer, any, FALSE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address (peer, nullptr);
  const guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (any);
  g_object_unref (lo);
  PipelineRunner r ("appsrc name=in format=time caps=audio/x-raw,format=S16LE,rate=24000,"
      "channels=1,layout=interleaved ! realtimesink sync=false session=pcmwire url=\"" + sim.url ()
      + "\" realtimesrc name=play session=pcmwire ! "
      "audio/x-raw,format=S16LE,rate=24000,channels=1 ! audioresample ! audioconvert ! "
      "audio/x-raw,format=S16LE,rate=8000,channels=1 ! mulawenc ! "
      "siprtpsink name=rtp address=127.0.0.1 remote=127.0.0.1:" + std::to_string (port));
  ASSERT_TRUE (r.ok ()) << r.errors ();
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *in = r.by_name ("in");
  GstClockTime ts = 0;
  push_pcm (in, &ts, 1200, true);
  push_pcm (in, &ts, 800, false);
  gst_object_unref (in);
  ASSERT_NE (r.wait_element ("realtime-response-done", kWait), nullptr) << sim.log ();
  /* Paced out in real time: wait until nothing of it is left to send. */
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline &&
      (uint64_property (r, "rtp", "pending-audio-ms") > 0 || uint64_property (r, "rtp", "sent-ms") == 0))
    r.wait_for ([] (GstMessage *) { return false; }, 50 * GST_MSECOND);
  r.wait_for ([] (GstMessage *) { return false; }, 100 * GST_MSECOND);
  const guint64 played = uint64_property (r, "play", "played-ms");
  const guint64 sent = uint64_property (r, "rtp", "sent-ms");
  EXPECT_GT (played, 500u);     /* espeak: well over half a second */
  /* ms are rounded down on either side */
  EXPECT_LE (sent, played);
  EXPECT_GE (sent + 1, played);
  EXPECT_GT (g_socket_get_available_bytes (peer), 0);
  g_object_unref (peer);
}

TEST (RealtimeIntegration, G711PassthroughIsNotTranscoded)
{
  /* Echo mode returns the very bytes it was sent when input and output
   * formats are the same: any transcoding on our side would change them. */
  RealtimeSimProcess sim ({"--behaviour", "echo", "--verbose"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  /* No VAD: its speech_started would (rightly) barge in on the echo. */
  PipelineRunner r ("appsrc name=in format=time caps=audio/x-mulaw,rate=8000,channels=1 ! "
      "realtimesink sync=false session=g711 turn-detection=none url=\"" + sim.url () + "\" "
      "realtimesrc name=play session=g711 ! audio/x-mulaw,rate=8000,channels=1 ! "
      "queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! appsink name=out sync=false");
  ASSERT_TRUE (r.ok ()) << r.errors ();
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();

  std::vector<guint8> sent;
  GstElement *in = r.by_name ("in");
  for (int frame = 0; frame < 25; frame++) {
    GstBuffer *buf = gst_buffer_new_allocate (nullptr, 160, nullptr);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (int i = 0; i < 160; i++) {
      map.data[i] = (guint8) ((frame * 160 + i) % 255);   /* never 0xff, the µ-law silence */
      sent.push_back (map.data[i]);
    }
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = frame * 20 * GST_MSECOND;
    gst_app_src_push_buffer (GST_APP_SRC (in), buf);
  }
  gst_object_unref (in);

  GstElement *out = r.by_name ("out");
  std::vector<guint8> received;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (received.size () < sent.size () && g_get_monotonic_time () < deadline) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (out), 100 * GST_MSECOND);
    if (!sample)
      continue;
    GstMapInfo map;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (gsize i = 0; i < map.size; i++)
      if (map.data[i] != 0xff)
        received.push_back (map.data[i]);
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
  }
  gst_object_unref (out);
  EXPECT_EQ (received, sent);
  EXPECT_NE (sim.log ().find ("\"audio/pcmu\""), std::string::npos);
}

TEST (RealtimeIntegration, BargeInTruncatesToWhatWasPlayed)
{
  RealtimeSimProcess sim ({"--behaviour", "speak", "--reply",
        "This is a long answer that keeps going so that the caller has every reason to interrupt "
        "it before it is finished, which is exactly what the test is going to do now."});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("barge", sim.url (), "", ""));
  ASSERT_TRUE (r.ok ()) << r.errors ();
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *in = r.by_name ("in");
  GstClockTime ts = 0;
  push_pcm (in, &ts, 1000, true);
  push_pcm (in, &ts, 800, false);
  ASSERT_NE (r.wait_element ("realtime-response-started", kWait), nullptr) << sim.log ();
  /* Let part of the answer play out, then talk over it. */
  r.wait_for ([&] (GstMessage *) { return played_ms (r) >= 400; }, 200 * GST_MSECOND);
  while (played_ms (r) < 400)
    r.wait_for ([] (GstMessage *) { return false; }, 50 * GST_MSECOND);
  push_pcm (in, &ts, 600, true);
  gst_object_unref (in);

  GstStructure *barge = r.wait_element ("realtime-barge-in", kWait);
  ASSERT_NE (barge, nullptr) << sim.log ();
  guint64 end_ms = 0, dropped_ms = 0;
  gboolean truncated = FALSE;
  gst_structure_get_uint64 (barge, "audio-end-ms", &end_ms);
  gst_structure_get_uint64 (barge, "dropped-ms", &dropped_ms);
  gst_structure_get_boolean (barge, "truncated", &truncated);
  guint64 played_at_barge_in = played_ms (r);
  EXPECT_TRUE (truncated);
  EXPECT_GE (end_ms, 400u);
  EXPECT_LE (end_ms, played_at_barge_in);
  /* Nothing waits in realtimesrc (it passes audio on as it comes) and
   * nothing downstream counts what the caller heard: none dropped. */
  EXPECT_EQ (dropped_ms, 0u);

  /* The server accepts the truncate (an audio_end_ms beyond what it sent
   * would be an error) ... */
  GstStructure *truncated_ev = r.wait_element ("realtime-truncated", kWait);
  ASSERT_NE (truncated_ev, nullptr) << sim.log ();
  guint64 server_end = 0;
  gst_structure_get_uint64 (truncated_ev, "audio-end-ms", &server_end);
  EXPECT_EQ (server_end, end_ms);
  EXPECT_EQ (r.count ("realtime-error"), 0);
  /* ... and nothing of the interrupted answer plays after the barge-in. */
  r.wait_for ([] (GstMessage *) { return false; }, 300 * GST_MSECOND);
  EXPECT_EQ (played_ms (r), played_at_barge_in);
}

TEST (RealtimeIntegration, FunctionCallRoundTrip)
{
  RealtimeSimProcess sim ({"--behaviour", "speak", "--function-call", "lookup_order",
        "--function-args", "{\"order\":\"42\"}"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("tools", sim.url (), "", ""));
  ASSERT_TRUE (r.ok ()) << r.errors ();
  GstElement *sink = r.by_name ("rt");
  g_object_set (sink, "tools",
      R"([{"type":"function","name":"lookup_order","parameters":{"type":"object"}}])", NULL);
  r.on_element = [sink] (const GstStructure * s) {
    if (gst_structure_has_name (s, "realtime-function-call")) {
      gboolean ok = FALSE;
      g_signal_emit_by_name (sink, "send-function-output", gst_structure_get_string (s, "call-id"),
          "{\"status\":\"shipped\"}", &ok);
      EXPECT_TRUE (ok);
    }
  };
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *in = r.by_name ("in");
  GstClockTime ts = 0;
  push_pcm (in, &ts, 800, true);
  push_pcm (in, &ts, 800, false);
  gst_object_unref (in);

  GstStructure *call = r.wait_element ("realtime-function-call", kWait);
  ASSERT_NE (call, nullptr) << sim.log ();
  EXPECT_EQ (field (call, "name"), "lookup_order");
  EXPECT_EQ (field (call, "arguments"), "{\"order\":\"42\"}");
  bool answered = r.wait_for ([] (GstMessage * m) {
        const GstStructure *s = gst_message_get_structure (m);
        gboolean final = FALSE;
        return s && gst_structure_has_name (s, "realtime-output-transcript")
            && gst_structure_get_boolean (s, "final", &final) && final
            && strstr (gst_structure_get_string (s, "text"), "shipped");
      }, kWait);
  EXPECT_TRUE (answered) << sim.log ();
  gst_object_unref (sink);
}

TEST (RealtimeIntegration, SendTextGetsAnAnswer)
{
  RealtimeSimProcess sim ({"--behaviour", "speak"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("text", sim.url (), "output-modality=text", ""));
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *sink = r.by_name ("rt");
  gboolean ok = FALSE;
  g_signal_emit_by_name (sink, "send-text", "caller pressed 5", &ok);
  EXPECT_TRUE (ok);
  gst_object_unref (sink);
  bool answered = r.wait_for ([] (GstMessage * m) {
        const GstStructure *s = gst_message_get_structure (m);
        gboolean final = FALSE;
        return s && gst_structure_has_name (s, "realtime-output-text")
            && gst_structure_get_boolean (s, "final", &final) && final
            && strstr (gst_structure_get_string (s, "text"), "caller pressed 5");
      }, kWait);
  EXPECT_TRUE (answered) << sim.log ();
}

/* The API refuses a response.create while a response is active
 * (conversation_already_has_active_response): the second request must wait
 * for the first answer instead of being lost. */
TEST (RealtimeIntegration, ResponseRequestWaitsForTheActiveResponse)
{
  RealtimeSimProcess sim ({"--behaviour", "speak"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("busy", sim.url (), "output-modality=text", ""));
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  GstElement *sink = r.by_name ("rt");
  gboolean ok = FALSE;
  g_signal_emit_by_name (sink, "send-text", "first question", &ok);
  EXPECT_TRUE (ok);
  g_signal_emit_by_name (sink, "send-text", "second question", &ok);
  EXPECT_TRUE (ok);
  gst_object_unref (sink);
  bool answered = r.wait_for ([] (GstMessage * m) {
        const GstStructure *s = gst_message_get_structure (m);
        gboolean final = FALSE;
        return s && gst_structure_has_name (s, "realtime-output-text")
            && gst_structure_get_boolean (s, "final", &final) && final
            && strstr (gst_structure_get_string (s, "text"), "second question");
      }, kWait);
  EXPECT_TRUE (answered) << sim.log ();
  for (const GstStructure *s : r.element_messages ())
    if (gst_structure_has_name (s, "realtime-error"))
      ADD_FAILURE () << "unexpected error: " << field (s, "code") << " " << field (s, "message");
}

TEST (RealtimeIntegration, AuthenticationBothHeaderStylesAnd401)
{
  RealtimeSimProcess sim ({"--api-key", "right-key"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  {
    PipelineRunner r (pcm_graph ("auth-openai", sim.url ("/v1/realtime?model=gpt-realtime"),
            "api-key=right-key", ""));
    ASSERT_TRUE (r.play ());
    EXPECT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  }
  {
    g_setenv ("VOXBRIDGE_TEST_AZURE_KEY", "right-key", TRUE);
    PipelineRunner r (pcm_graph ("auth-azure", sim.url ("/openai/v1/realtime?model=my-deployment"),
            "api-key-env=VOXBRIDGE_TEST_AZURE_KEY", ""));
    ASSERT_TRUE (r.play ());
    EXPECT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  }
  {
    PipelineRunner r (pcm_graph ("auth-wrong", sim.url (), "api-key=wrong-key-xyz", ""));
    ASSERT_TRUE (r.play ());
    std::string error = r.wait_error (kWait);
    EXPECT_NE (error.find ("401"), std::string::npos) << error;
    EXPECT_EQ (error.find ("wrong-key-xyz"), std::string::npos) << error;
    GstStructure *s = r.wait_element ("realtime-error", 0);
    ASSERT_NE (s, nullptr);
    EXPECT_EQ (field (s, "code"), "unauthorized");
  }
}

TEST (RealtimeIntegration, ServerDiesMidSession)
{
  RealtimeSimProcess sim;
  ASSERT_TRUE (sim.started ()) << sim.log ();
  PipelineRunner r (pcm_graph ("dies", sim.url (), "reconnect-attempts=0", ""));
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  sim.kill_now ();
  std::string error = r.wait_error (kWait);
  EXPECT_NE (error.find ("Lost the connection to the AI"), std::string::npos) << error;
  GstStructure *lost = r.wait_element ("realtime-session-lost", 0);
  ASSERT_NE (lost, nullptr);
  gboolean reconnecting = TRUE;
  gst_structure_get_boolean (lost, "reconnecting", &reconnecting);
  EXPECT_FALSE (reconnecting);
}

TEST (RealtimeIntegration, DroppedSessionIsReconnected)
{
  auto first = std::make_unique<RealtimeSimProcess> ();
  ASSERT_TRUE (first->started ()) << first->log ();
  guint16 port = first->port ();
  PipelineRunner r (pcm_graph ("reconnect", first->url (), "reconnect-attempts=5", ""));
  ASSERT_TRUE (r.play ());
  ASSERT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
  first->kill_now ();
  ASSERT_NE (r.wait_element ("realtime-session-lost", kWait), nullptr);
  RealtimeSimProcess second ({"--port", std::to_string (port)});
  ASSERT_TRUE (second.started ()) << second.log ();
  bool back = r.wait_for ([] (GstMessage * m) {
        const GstStructure *s = gst_message_get_structure (m);
        gboolean reconnected = FALSE;
        return s && gst_structure_has_name (s, "realtime-session-ready")
            && gst_structure_get_boolean (s, "reconnected", &reconnected) && reconnected;
      }, kWait);
  EXPECT_TRUE (back) << r.errors ();
  EXPECT_EQ (r.errors (), "");
}

namespace {

/* A self-signed certificate for 127.0.0.1 made with the openssl CLI in @dir. */
bool
make_certificate (const std::string & dir)
{
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " + dir
      + "/cert.pem >/dev/null 2>&1";
  return system (cmd.c_str ()) == 0;
}

}  // namespace

TEST (RealtimeIntegration, WssVerifiedWithCaFileAndRefusedWithout)
{
  gchar *dir = g_dir_make_tmp ("voxbridge-tls-XXXXXX", nullptr);
  ASSERT_NE (dir, nullptr);
  std::string d = dir;
  g_free (dir);
  ASSERT_TRUE (make_certificate (d)) << "openssl CLI missing?";
  {
    RealtimeSimProcess sim ({"--tls-cert", d + "/cert.pem", "--tls-key", d + "/key.pem"});
    ASSERT_TRUE (sim.started ()) << sim.log ();
    ASSERT_EQ (sim.url ().rfind ("wss://", 0), 0u) << sim.url ();
    {
      PipelineRunner r (pcm_graph ("tls-ok", sim.url (), "ca-file=" + d + "/cert.pem", ""));
      ASSERT_TRUE (r.play ());
      EXPECT_NE (r.wait_element ("realtime-session-ready", kWait), nullptr) << r.errors ();
    }
    {
      /* The system store does not know this certificate. */
      PipelineRunner r (pcm_graph ("tls-bad", sim.url (), "", ""));
      ASSERT_TRUE (r.play ());
      std::string error = r.wait_error (kWait);
      EXPECT_NE (error.find ("TLS"), std::string::npos) << error;
    }
  }
  for (const char *f : {"/cert.pem", "/key.pem"})
    g_remove ((d + f).c_str ());
  g_rmdir (d.c_str ());
}
