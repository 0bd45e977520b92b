/* GstHarness tests of realtimesrc / realtimesink: caps, pacing and
 * timestamps against a GstTestClock, playout and flush, settings errors. */
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gtest/gtest.h>

#include "realtime_session.h"

using namespace voxbridge::realtime;

namespace {

GstHarness *
new_src_harness (const char *session, const char *caps)
{
  GstHarness *h = gst_harness_new ("realtimesrc");
  g_object_set (h->element, "session", session, NULL);
  gst_harness_use_testclock (h);
  gst_harness_set_sink_caps_str (h, caps);
  gst_harness_play (h);
  return h;
}

/* Lets the src's pending clock wait fire and returns the buffer it pushes. */
GstBuffer *
next_frame (GstHarness * h)
{
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  return gst_harness_pull (h);
}

std::vector<guint8>
contents (GstBuffer * buf)
{
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  std::vector<guint8> v (map.data, map.data + map.size);
  gst_buffer_unmap (buf, &map);
  return v;
}

}  // namespace

TEST (RealtimeSrc, PacedSilenceWithContinuousTimestamps)
{
  const struct { const char *caps; gsize frame; guint8 silence; } cases[] = {
    {"audio/x-mulaw,rate=8000,channels=1", 160, 0xff},
    {"audio/x-alaw,rate=8000,channels=1", 160, 0xd5},
    {"audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved", 960, 0x00},
  };
  for (const auto & c : cases) {
    GstHarness *h = new_src_harness ("pace", c.caps);
    for (int i = 0; i < 5; i++) {
      GstBuffer *buf = next_frame (h);
      ASSERT_NE (buf, nullptr);
      EXPECT_EQ (gst_buffer_get_size (buf), c.frame) << c.caps;
      EXPECT_EQ (GST_BUFFER_PTS (buf), i * 20 * GST_MSECOND) << c.caps;
      EXPECT_EQ (GST_BUFFER_DURATION (buf), 20 * GST_MSECOND);
      EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
      /* Pushed only once its frame time has passed on the clock. */
      EXPECT_EQ (gst_clock_get_time (GST_ELEMENT_CLOCK (h->element)), (i + 1) * 20 * GST_MSECOND);
      auto data = contents (buf);
      EXPECT_EQ (data.front (), c.silence);
      EXPECT_EQ (data.back (), c.silence);
      gst_buffer_unref (buf);
    }
    gst_harness_teardown (h);
  }
}

TEST (RealtimeSrc, PlaysQueuedModelAudioAndReportsLatency)
{
  GstHarness *h = new_src_harness ("play", "audio/x-mulaw,rate=8000,channels=1");
  GstBuffer *first = next_frame (h);   /* negotiated, player attached */
  gst_buffer_unref (first);

  auto session = Session::attach ("play");
  std::vector<guint8> audio (240, 0x42);
  session->playout ().push ("item_1", audio.data (), audio.size ());
  guint64 queued_ms = 0;
  g_object_get (h->element, "queued-ms", &queued_ms, NULL);
  EXPECT_EQ (queued_ms, 30u);
  GstBuffer *b1 = next_frame (h);
  g_object_get (h->element, "queued-ms", &queued_ms, NULL);
  EXPECT_EQ (queued_ms, 10u);
  GstBuffer *b2 = next_frame (h);
  auto d1 = contents (b1), d2 = contents (b2);
  EXPECT_EQ (d1, std::vector<guint8> (160, 0x42));
  EXPECT_EQ (d2[79], 0x42);
  EXPECT_EQ (d2[80], 0xff);
  EXPECT_FALSE (GST_BUFFER_FLAG_IS_SET (b1, GST_BUFFER_FLAG_GAP));
  guint64 played_ms = 0;
  g_object_get (h->element, "played-ms", &played_ms, NULL);
  EXPECT_EQ (played_ms, 30u);   /* 240 bytes of 8 kHz G.711 */
  gst_buffer_unref (b1);
  gst_buffer_unref (b2);

  GstQuery *q = gst_query_new_latency ();
  ASSERT_TRUE (gst_element_query (h->element, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (q, &live, &min, &max);
  EXPECT_TRUE (live);
  EXPECT_EQ (min, 20 * GST_MSECOND);
  gst_query_unref (q);
  Session::detach (session);
  gst_harness_teardown (h);
}

TEST (RealtimeSrc, FlushDropsQueuedAudioWithinOneFrame)
{
  GstHarness *h = new_src_harness ("flush", "audio/x-mulaw,rate=8000,channels=1");
  gst_buffer_unref (next_frame (h));
  auto session = Session::attach ("flush");
  std::vector<guint8> audio (8000, 0x10);   /* one second */
  session->playout ().push ("item_7", audio.data (), audio.size ());
  gst_buffer_unref (next_frame (h));
  gst_buffer_unref (next_frame (h));
  auto r = session->playout ().flush ();
  EXPECT_EQ (r.item_id, "item_7");
  EXPECT_EQ (r.played_bytes, 320u);        /* exactly what left the src: 40 ms */
  EXPECT_EQ (r.played_bytes / 8, 40u);     /* the truncate's audio_end_ms */
  GstBuffer *after = next_frame (h);
  EXPECT_EQ (contents (after), std::vector<guint8> (160, 0xff));
  gst_buffer_unref (after);
  Session::detach (session);
  gst_harness_teardown (h);
}

TEST (RealtimeSrc, RefusesUnsupportedCaps)
{
  GstHarness *h = gst_harness_new ("realtimesrc");
  g_object_set (h->element, "session", "caps", NULL);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_use_testclock (h);
  gst_harness_set_sink_caps_str (h, "audio/x-raw,format=S16LE,rate=16000,channels=1");
  gst_harness_play (h);
  /* Negotiation fails: the src posts a not-negotiated error instead of pushing. */
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  ASSERT_NE (msg, nullptr);
  GError *err = nullptr;
  gst_message_parse_error (msg, &err, nullptr);
  EXPECT_TRUE (g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED)) << err->message;
  g_error_free (err);
  gst_message_unref (msg);
  EXPECT_EQ (gst_harness_buffers_received (h), 0u);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

TEST (RealtimeSink, AcceptsTheThreeSessionFormats)
{
  const char *ok_caps[] = {
    "audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved",
    "audio/x-mulaw,rate=8000,channels=1",
    "audio/x-alaw,rate=8000,channels=1",
  };
  GstElement *sink = gst_element_factory_make ("realtimesink", nullptr);
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  for (const char *c : ok_caps) {
    GstCaps *caps = gst_caps_from_string (c);
    EXPECT_TRUE (gst_pad_query_accept_caps (pad, caps)) << c;
    gst_caps_unref (caps);
  }
  const char *bad_caps[] = {
    "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved",
    "audio/x-raw,format=S16LE,rate=24000,channels=2,layout=interleaved",
    "audio/x-mulaw,rate=16000,channels=1",
    "audio/x-opus",
  };
  for (const char *c : bad_caps) {
    GstCaps *caps = gst_caps_from_string (c);
    EXPECT_FALSE (gst_pad_query_accept_caps (pad, caps)) << c;
    gst_caps_unref (caps);
  }
  gst_object_unref (pad);
  gst_object_unref (sink);
}

namespace {

/* Runs @description to PLAYING and returns the first error's text ("" if
 * none came within @timeout). */
std::string
first_error (const char *description, GstClockTime timeout = 10 * GST_SECOND)
{
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (description, &err);
  EXPECT_NE (pipeline, nullptr) << (err ? err->message : "");
  if (!pipeline)
    return "<no pipeline>";
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout, GST_MESSAGE_ERROR);
  std::string text;
  if (msg) {
    GError *e = nullptr;
    gchar *dbg = nullptr;
    gst_message_parse_error (msg, &e, &dbg);
    text = e->message;
    g_error_free (e);
    g_free (dbg);
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return text;
}

}  // namespace

TEST (RealtimeSink, SettingsErrorsNameTheCause)
{
  g_unsetenv ("VOXBRIDGE_NO_SUCH_KEY");
  const struct { const char *props; const char *expect; } cases[] = {
    {"url=ftp://x/v1/realtime?model=m", "scheme"},
    {"", "no url"},
    {"url=\"wss://r.openai.azure.com/openai/v1/realtime?model=d&api-version=2024-10-01\"", "api-version"},
    {"url=\"ws://127.0.0.1:9/v1/realtime?model=m\" api-key-env=VOXBRIDGE_NO_SUCH_KEY", "VOXBRIDGE_NO_SUCH_KEY"},
    {"url=\"ws://127.0.0.1:9/v1/realtime?model=m\" tools=\"{not json\"", "tools"},
    {"url=\"ws://127.0.0.1:9/v1/realtime?model=m\" ca-file=/nonexistent/ca.pem", "ca-file"},
  };
  for (const auto & c : cases) {
    std::string desc = std::string ("audiotestsrc is-live=true ! audio/x-raw,rate=24000,channels=1 ! "
        "realtimesink session=settings ") + c.props;
    std::string error = first_error (desc.c_str ());
    EXPECT_NE (error.find (c.expect), std::string::npos) << c.props << " -> " << error;
  }
}

TEST (RealtimeSink, ConnectionRefusedIsReported)
{
  /* Bind a port and close it so that nothing listens there. */
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  ASSERT_TRUE (g_socket_bind (sock, addr, TRUE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address (sock, nullptr);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, nullptr);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);

  std::string desc = "audiotestsrc is-live=true ! audio/x-raw,rate=24000,channels=1 ! "
      "realtimesink session=refused api-key=sk-secret-123 url=\"ws://127.0.0.1:" + std::to_string (port)
      + "/v1/realtime?model=m\"";
  std::string error = first_error (desc.c_str ());
  EXPECT_NE (error.find ("refused"), std::string::npos) << error;
  EXPECT_EQ (error.find ("sk-secret-123"), std::string::npos) << error;
}

TEST (RealtimeSink, ConnectTimeoutIsReported)
{
  /* A listener that accepts TCP but never answers the WebSocket handshake. */
  GSocketListener *listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, nullptr, nullptr);
  ASSERT_NE (port, 0);
  std::string desc = "audiotestsrc is-live=true ! audio/x-raw,rate=24000,channels=1 ! "
      "realtimesink session=timeout connect-timeout=300 url=\"ws://127.0.0.1:" + std::to_string (port)
      + "/v1/realtime?model=m\"";
  std::string error = first_error (desc.c_str ());
  EXPECT_NE (error.find ("timed out after 300 ms"), std::string::npos) << error;
  g_socket_listener_close (listener);
  g_object_unref (listener);
}
