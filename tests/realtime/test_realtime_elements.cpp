/* GstHarness tests of realtimesrc / realtimesink: caps, timestamps against
 * a GstTestClock, audio pushed as it arrives, settings errors. */
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gtest/gtest.h>

#include "realtime_session.h"

using namespace voxbridge::realtime;

namespace {

GstHarness *
new_src_harness (const char *session, const char *caps, bool play = true)
{
  GstHarness *h = gst_harness_new ("realtimesrc");
  g_object_set (h->element, "session", session, NULL);
  gst_harness_use_testclock (h);
  gst_harness_set_sink_caps_str (h, caps);
  if (play)
    gst_harness_play (h);
  return h;
}

/* Waits for the GAP the src pushes (from the sessions' thread) when it
 * starts playing, so that sinks preroll. */
void
wait_for_start_gap (GstHarness * h)
{
  for (;;) {
    GstEvent *event = gst_harness_pull_event (h);
    ASSERT_NE (event, nullptr);
    bool gap = GST_EVENT_TYPE (event) == GST_EVENT_GAP;
    gst_event_unref (event);
    if (gap)
      return;
  }
}

void
set_clock_ms (GstHarness * h, guint64 ms)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  gst_test_clock_set_time (clock, ms * GST_MSECOND);
  gst_object_unref (clock);
}

/* The item ids of the playout marks pushed since the last call. */
std::vector<std::string>
item_marks (GstHarness * h)
{
  std::vector<std::string> ids;
  while (GstEvent *event = gst_harness_try_pull_event (h)) {
    const GstStructure *s = gst_event_get_structure (event);
    if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM && s
        && gst_structure_has_name (s, "voxbridge-playout-item"))
      ids.push_back (gst_structure_get_string (s, "item-id"));
    gst_event_unref (event);
  }
  return ids;
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

guint64
ms_property (GstHarness * h, const char *name)
{
  guint64 value = G_MAXUINT64;
  g_object_get (h->element, name, &value, NULL);
  return value;
}

}  // namespace

TEST (RealtimeSrc, PushesModelAudioAsItArrivesInRunningTime)
{
  const struct { const char *caps; guint bytes_per_ms; } cases[] = {
    {"audio/x-mulaw,rate=8000,channels=1", 8},
    {"audio/x-alaw,rate=8000,channels=1", 8},
    {"audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved", 48},
  };
  for (const auto & c : cases) {
    GstHarness *h = new_src_harness ("arrive", c.caps);
    wait_for_start_gap (h);
    EXPECT_EQ (gst_harness_buffers_received (h), 0u);   /* nothing while quiet */
    auto session = Session::attach ("arrive");
    set_clock_ms (h, 1000);
    std::vector<guint8> chunk (20 * c.bytes_per_ms, 0x42);
    /* Pushed from the thread that hands the audio over: no clock wait. */
    session->deliver_output_audio ("item_1", chunk.data (), chunk.size ());
    GstBuffer *first = gst_harness_try_pull (h);
    ASSERT_NE (first, nullptr) << c.caps;
    EXPECT_EQ (GST_BUFFER_PTS (first), 1000 * GST_MSECOND) << c.caps;
    EXPECT_EQ (GST_BUFFER_DURATION (first), 20 * GST_MSECOND) << c.caps;
    EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (first, GST_BUFFER_FLAG_DISCONT));
    EXPECT_FALSE (GST_BUFFER_FLAG_IS_SET (first, GST_BUFFER_FLAG_GAP));
    EXPECT_EQ (contents (first), chunk);
    EXPECT_EQ (item_marks (h), std::vector<std::string> {"item_1"});
    gst_buffer_unref (first);

    /* More at once (a model faster than real time): right after, ahead of
     * the clock, never before the end of the previous buffer. */
    session->deliver_output_audio ("item_1", chunk.data (), chunk.size ());
    GstBuffer *second = gst_harness_try_pull (h);
    ASSERT_NE (second, nullptr);
    EXPECT_EQ (GST_BUFFER_PTS (second), 1020 * GST_MSECOND);
    EXPECT_FALSE (GST_BUFFER_FLAG_IS_SET (second, GST_BUFFER_FLAG_DISCONT));
    EXPECT_TRUE (item_marks (h).empty ());
    gst_buffer_unref (second);

    /* A little late (within max-lateness-ms): the timeline goes on. */
    set_clock_ms (h, 1070);
    session->deliver_output_audio ("item_1", chunk.data (), chunk.size ());
    GstBuffer *late = gst_harness_try_pull (h);
    ASSERT_NE (late, nullptr);
    EXPECT_EQ (GST_BUFFER_PTS (late), 1040 * GST_MSECOND);
    EXPECT_FALSE (GST_BUFFER_FLAG_IS_SET (late, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (late);

    /* After a quiet time: a new stretch at the arrival. */
    set_clock_ms (h, 5000);
    session->deliver_output_audio ("item_2", chunk.data (), chunk.size ());
    GstBuffer *next = gst_harness_try_pull (h);
    ASSERT_NE (next, nullptr);
    EXPECT_EQ (GST_BUFFER_PTS (next), 5000 * GST_MSECOND);
    EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (next, GST_BUFFER_FLAG_DISCONT));
    EXPECT_EQ (item_marks (h), std::vector<std::string> {"item_2"});
    gst_buffer_unref (next);
    EXPECT_EQ (ms_property (h, "played-ms"), 80u);
    EXPECT_EQ (ms_property (h, "queued-ms"), 0u);
    Session::detach (session);
    gst_harness_teardown (h);
  }
}

TEST (RealtimeSrc, TenSecondsAtOnceLeaveAtOnce)
{
  GstHarness *h = new_src_harness ("burst", "audio/x-mulaw,rate=8000,channels=1");
  wait_for_start_gap (h);
  auto session = Session::attach ("burst");
  std::vector<guint8> answer (80000, 0x17);     /* 10 s of G.711 */
  session->deliver_output_audio ("item_9", answer.data (), answer.size ());
  GstClockTime expected_pts = 0;
  gsize total = 0;
  while (GstBuffer *buf = gst_harness_try_pull (h)) {
    EXPECT_EQ (GST_BUFFER_PTS (buf), expected_pts);
    expected_pts += GST_BUFFER_DURATION (buf);
    total += gst_buffer_get_size (buf);
    gst_buffer_unref (buf);
  }
  EXPECT_EQ (total, answer.size ());
  EXPECT_EQ (expected_pts, 10 * GST_SECOND);
  EXPECT_EQ (ms_property (h, "played-ms"), 10000u);
  Session::detach (session);
  gst_harness_teardown (h);
}

TEST (RealtimeSrc, AudioBeforePlayingWaitsThenLeavesPerItem)
{
  GstHarness *h = new_src_harness ("early", "audio/x-mulaw,rate=8000,channels=1", false);
  ASSERT_NE (gst_element_set_state (h->element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  auto session = Session::attach ("early");
  std::vector<guint8> a (160, 0x0a), b (80, 0x0b);
  session->deliver_output_audio ("item_a", a.data (), a.size ());
  session->deliver_output_audio ("item_b", b.data (), b.size ());
  EXPECT_EQ (ms_property (h, "queued-ms"), 30u);
  EXPECT_EQ (gst_harness_buffers_received (h), 0u);
  gst_harness_play (h);
  /* The sessions' thread pushes it: one buffer per item, each marked. */
  GstBuffer *first = gst_harness_pull (h);
  GstBuffer *second = gst_harness_pull (h);
  ASSERT_NE (first, nullptr);
  ASSERT_NE (second, nullptr);
  EXPECT_EQ (contents (first), a);
  EXPECT_EQ (contents (second), b);
  EXPECT_EQ (GST_BUFFER_PTS (second), GST_BUFFER_PTS (first) + 20 * GST_MSECOND);
  EXPECT_EQ (item_marks (h), (std::vector<std::string> {"item_a", "item_b"}));
  EXPECT_EQ (ms_property (h, "queued-ms"), 0u);
  EXPECT_EQ (ms_property (h, "played-ms"), 30u);
  gst_buffer_unref (first);
  gst_buffer_unref (second);
  Session::detach (session);
  gst_harness_teardown (h);
}

TEST (RealtimeSrc, EndOfAnItemsAudioDrainsDownstream)
{
  GstHarness *h = new_src_harness ("end", "audio/x-raw,format=S16LE,rate=24000,channels=1,"
      "layout=interleaved");
  wait_for_start_gap (h);
  auto session = Session::attach ("end");
  std::vector<guint8> chunk (960, 0x01);
  session->deliver_output_audio ("item_1", chunk.data (), chunk.size ());
  gst_buffer_unref (gst_harness_pull (h));
  session->end_output_audio ();
  /* An empty DISCONT buffer: audioresample lets out what it held back. */
  GstBuffer *end = gst_harness_try_pull (h);
  ASSERT_NE (end, nullptr);
  EXPECT_EQ (gst_buffer_get_size (end), 0u);
  EXPECT_EQ (GST_BUFFER_PTS (end), 20 * GST_MSECOND);
  EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (end, GST_BUFFER_FLAG_DISCONT));
  EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (end, GST_BUFFER_FLAG_GAP));
  gst_buffer_unref (end);
  session->end_output_audio ();         /* nothing since: nothing more */
  EXPECT_EQ (gst_harness_try_pull (h), nullptr);
  Session::detach (session);
  gst_harness_teardown (h);
}

TEST (RealtimeSrc, ReportsLiveLatency)
{
  GstHarness *h = new_src_harness ("latency", "audio/x-mulaw,rate=8000,channels=1");
  GstQuery *q = gst_query_new_latency ();
  ASSERT_TRUE (gst_element_query (h->element, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (q, &live, &min, &max);
  EXPECT_TRUE (live);
  EXPECT_EQ (min, 100 * GST_MSECOND);   /* max-lateness-ms */
  EXPECT_GE (max, min);
  gst_query_unref (q);
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
