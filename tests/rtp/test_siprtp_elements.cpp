/* siprtpsrc / siprtpsink over real loopback sockets. Time is a GstTestClock
 * (GstHarness): siprtpsrc's arrival times and reorder deadlines and the
 * sink's packet pacing only move when the test moves the clock, so every
 * run sees the same packets. Waits on sockets and conditions are bounded
 * only to fail instead of hang. */
#include <gtest/gtest.h>

#include <gio/gio.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rtp_call.h"

using voxbridge::RtpCallRegistry;
using voxbridge::RtpMediaParams;

namespace {

constexpr guint kFrame = 160;           /* 20 ms of G.711 */
constexpr gint64 kWaitUs = 5 * G_USEC_PER_SEC;

/* A UDP socket of the test on 127.0.0.1 (or ::1). */
struct Peer {
  GSocket *socket = nullptr;
  guint16 port = 0;
  bool ipv6 = false;

  explicit Peer (GSocketFamily family = G_SOCKET_FAMILY_IPV4) {
    ipv6 = family == G_SOCKET_FAMILY_IPV6;
    socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, nullptr);
    GInetAddress *lo = g_inet_address_new_loopback (family);
    GSocketAddress *any = g_inet_socket_address_new (lo, 0);
    g_socket_bind (socket, any, FALSE, nullptr);
    g_object_unref (any);
    g_object_unref (lo);
    GSocketAddress *local = g_socket_get_local_address (socket, nullptr);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    g_object_unref (local);
  }
  ~Peer () {
    g_object_unref (socket);
  }
  std::string address () const {
    return (ipv6 ? "[::1]:" : "127.0.0.1:") + std::to_string (port);
  }

  void send_to (guint16 to_port, GstBuffer * packet) {
    GSocketAddress *to = g_inet_socket_address_new_from_string ("127.0.0.1",
        to_port);
    GstMapInfo map;
    gst_buffer_map (packet, &map, GST_MAP_READ);
    gssize sent = g_socket_send_to (socket, to,
        reinterpret_cast<const gchar *> (map.data), map.size, nullptr,
        nullptr);
    EXPECT_EQ (sent, (gssize) map.size);
    gst_buffer_unmap (packet, &map);
    gst_buffer_unref (packet);
    g_object_unref (to);
  }

  void send_raw (guint16 to_port, const std::vector<guint8> & bytes) {
    GSocketAddress *to = g_inet_socket_address_new_from_string ("127.0.0.1",
        to_port);
    g_socket_send_to (socket, to, reinterpret_cast<const gchar *> (
            bytes.data ()), bytes.size (), nullptr, nullptr);
    g_object_unref (to);
  }

  /* The next datagram (and where it came from); empty on timeout. */
  std::vector<guint8> receive (guint16 * from_port = nullptr,
      gint64 timeout_us = kWaitUs) {
    std::vector<guint8> data;
    if (!g_socket_condition_timed_wait (socket, G_IO_IN, timeout_us, nullptr,
            nullptr))
      return data;
    data.resize (2048);
    GSocketAddress *from = nullptr;
    gssize n = g_socket_receive_from (socket, &from,
        reinterpret_cast<gchar *> (data.data ()), data.size (), nullptr,
        nullptr);
    data.resize (n > 0 ? n : 0);
    if (from_port && from)
      *from_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
          (from));
    g_clear_object (&from);
    return data;
  }

  bool has_datagram () {
    return g_socket_condition_check (socket, G_IO_IN) & G_IO_IN;
  }
};

GstBuffer *
rtp_packet (guint8 pt, guint16 seq, guint32 ts, const std::vector<guint8> &
    payload, bool marker = false, guint32 ssrc = 0x1234abcd)
{
  GstBuffer *buffer = gst_rtp_buffer_new_allocate (payload.size (), 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map (buffer, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_payload_type (&rtp, pt);
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_set_ssrc (&rtp, ssrc);
  gst_rtp_buffer_set_marker (&rtp, marker);
  if (!payload.empty ())
    memcpy (gst_rtp_buffer_get_payload (&rtp), payload.data (),
        payload.size ());
  gst_rtp_buffer_unmap (&rtp);
  return buffer;
}

/* A 20 ms audio packet whose every byte is @fill. */
GstBuffer *
audio_packet (guint16 seq, guint8 fill, guint8 pt = 0)
{
  return rtp_packet (pt, seq, 1000 + seq * kFrame,
      std::vector<guint8> (kFrame, fill));
}

/* RFC 4733 telephone-event packet. */
GstBuffer *
dtmf_packet (guint16 seq, guint32 ts, guint8 event, bool end,
    guint16 duration, bool marker = false)
{
  std::vector<guint8> payload = { event,
    static_cast<guint8> ((end ? 0x80 : 0) | 10),
    static_cast<guint8> (duration >> 8), static_cast<guint8> (duration)
  };
  return rtp_packet (101, seq, ts, payload, marker);
}

struct RtpInfo {
  guint8 pt = 0;
  guint16 seq = 0;
  guint32 ts = 0;
  guint32 ssrc = 0;
  bool marker = false;
  std::vector<guint8> payload;
};

bool
parse_rtp (const std::vector<guint8> & data, RtpInfo * info)
{
  GstBuffer *buffer = gst_buffer_new_memdup (data.data (), data.size ());
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  bool ok = gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp);
  if (ok) {
    info->pt = gst_rtp_buffer_get_payload_type (&rtp);
    info->seq = gst_rtp_buffer_get_seq (&rtp);
    info->ts = gst_rtp_buffer_get_timestamp (&rtp);
    info->ssrc = gst_rtp_buffer_get_ssrc (&rtp);
    info->marker = gst_rtp_buffer_get_marker (&rtp);
    auto *p = static_cast<guint8 *> (gst_rtp_buffer_get_payload (&rtp));
    info->payload.assign (p, p + gst_rtp_buffer_get_payload_len (&rtp));
    gst_rtp_buffer_unmap (&rtp);
  }
  gst_buffer_unref (buffer);
  return ok;
}

bool
all_bytes (const std::vector<guint8> & v, guint8 value)
{
  for (guint8 b : v)
    if (b != value)
      return false;
  return !v.empty ();
}

guint64
stat_u64 (GstElement * element, const char *field)
{
  GstStructure *stats = nullptr;
  g_object_get (element, "stats", &stats, nullptr);
  guint64 value = G_MAXUINT64;
  if (stats) {
    gst_structure_get_uint64 (stats, field, &value);
    gst_structure_free (stats);
  }
  return value;
}

std::string
stat_string (GstElement * element, const char *field)
{
  GstStructure *stats = nullptr;
  g_object_get (element, "stats", &stats, nullptr);
  std::string value;
  if (stats) {
    const char *s = gst_structure_get_string (stats, field);
    value = s ? s : "";
    gst_structure_free (stats);
  }
  return value;
}

/* Waits until siprtpsrc has handled @n packets it accepted (counted in
 * packets-received once they went downstream, were dropped or wait in its
 * reorder buffer): everything they caused is then in the harness. */
bool
wait_for_received (GstElement * src, guint64 n)
{
  const gint64 until = g_get_monotonic_time () + kWaitUs;
  while (stat_u64 (src, "packets-received") < n) {
    if (g_get_monotonic_time () > until)
      return false;
    g_usleep (1000);
  }
  return true;
}

/* The next buffer, waiting for it (siprtpsrc's receive thread looks at its
 * deadlines at real-time pace); nullptr after kWaitUs. */
GstBuffer *
pull_waiting (GstHarness * h)
{
  const gint64 until = g_get_monotonic_time () + kWaitUs;
  for (;;) {
    GstBuffer *buffer = gst_harness_try_pull (h);
    if (buffer || g_get_monotonic_time () > until)
      return buffer;
    g_usleep (1000);
  }
}

/* Moves the test clock (siprtpsrc's arrival and deadline times) on. */
void
advance_clock (GstHarness * h, GstClockTime by)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  gst_test_clock_advance_time (clock, by);
  gst_object_unref (clock);
}

std::vector<guint8>
buffer_bytes (GstBuffer * buffer)
{
  GstMapInfo map;
  gst_buffer_map (buffer, &map, GST_MAP_READ);
  std::vector<guint8> bytes (map.data, map.data + map.size);
  gst_buffer_unmap (buffer, &map);
  return bytes;
}

/* What left siprtpsrc, in order: the first byte of each buffer (the tests
 * fill a packet with one value) or kGap for a GAP event. */
struct Output {
  guint value;
  bool discont;
  GstClockTime pts;
  GstClockTime duration;
};
constexpr guint kGap = 0xffff;

std::vector<guint>
values (const std::vector<Output> & out)
{
  std::vector<guint> v;
  for (const Output & o : out)
    v.push_back (o.value);
  return v;
}

/* siprtpsrc on its own port, in a harness, bus attached for messages; what
 * it outputs is also recorded in order (the harness queues buffers and
 * events apart). */
struct SrcFixture {
  GstElement *src;
  GstHarness *h;
  GstBus *bus;
  guint16 port;
  std::mutex lock;
  std::vector<Output> recorded;

  static GstPadProbeReturn record (GstPad *, GstPadProbeInfo * info,
      gpointer data) {
    auto *self = static_cast<SrcFixture *> (data);
    std::lock_guard<std::mutex> guard (self->lock);
    if (GST_IS_BUFFER (info->data)) {
      GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
      self->recorded.push_back ({ buffer_bytes (buffer)[0],
            GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT),
            GST_BUFFER_PTS (buffer), GST_BUFFER_DURATION (buffer) });
    } else if (GST_IS_EVENT (info->data) &&
        GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_GAP) {
      GstClockTime ts, duration;
      gst_event_parse_gap (GST_PAD_PROBE_INFO_EVENT (info), &ts, &duration);
      self->recorded.push_back ({ kGap, false, ts, duration });
    }
    return GST_PAD_PROBE_OK;
  }

  /* @sink_caps: what the harness takes (default: anything). */
  explicit SrcFixture (const char *props = "address=127.0.0.1",
      const char *sink_caps = nullptr) {
    gchar *desc = g_strdup_printf ("siprtpsrc %s", props);
    src = gst_parse_launch (desc, nullptr);
    g_free (desc);
    EXPECT_NE (src, nullptr);
    bus = gst_bus_new ();
    gst_element_set_bus (src, bus);
    GstPad *pad = gst_element_get_static_pad (src, "src");
    gst_pad_add_probe (pad, static_cast<GstPadProbeType> (
            GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        record, this, nullptr);
    gst_object_unref (pad);
    h = gst_harness_new_with_element (src, nullptr, "src");
    if (sink_caps)
      gst_harness_set_sink_caps_str (h, sink_caps);
    gst_harness_play (h);
    guint p = 0;
    g_object_get (src, "local-port", &p, nullptr);
    port = p;
  }
  ~SrcFixture () {
    gst_harness_teardown (h);
    gst_element_set_bus (src, nullptr);
    gst_object_unref (bus);
    gst_object_unref (src);
  }

  /* What siprtpsrc output since the last call (the harness queues are
   * emptied too). */
  std::vector<Output> drain () {
    while (GstBuffer *buffer = gst_harness_try_pull (h))
      gst_buffer_unref (buffer);
    while (GstEvent *event = gst_harness_try_pull_event (h))
      gst_event_unref (event);
    std::lock_guard<std::mutex> guard (lock);
    std::vector<Output> out;
    out.swap (recorded);
    return out;
  }
};

}  // namespace

/* ------------------------------------------------------------ siprtpsrc */

TEST (SipRtpSrc, ReordersPacketsAndOutputsMulaw)
{
  /* The clock never moves: the reordered packets cannot be waiting for a
   * deadline, they go out as soon as the gap is filled. */
  SrcFixture f ("address=127.0.0.1 latency=5000");
  ASSERT_NE (f.port, 0);
  Peer peer;
  peer.send_to (f.port, audio_packet (1, 0x01));
  peer.send_to (f.port, audio_packet (3, 0x03));
  peer.send_to (f.port, audio_packet (2, 0x02));
  ASSERT_TRUE (wait_for_received (f.src, 3));

  for (guint8 expected = 1; expected <= 3; expected++) {
    GstBuffer *out = gst_harness_try_pull (f.h);
    ASSERT_NE (out, nullptr) << "packet " << int (expected);
    auto bytes = buffer_bytes (out);
    EXPECT_EQ (bytes.size (), kFrame);
    EXPECT_TRUE (all_bytes (bytes, expected)) << "packet " << int (expected);
    EXPECT_EQ (GST_BUFFER_DURATION (out), 20 * GST_MSECOND);
    EXPECT_EQ (GST_BUFFER_PTS (out), (expected - 1) * 20 * GST_MSECOND);
    EXPECT_EQ (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT),
        expected == 1);
    gst_buffer_unref (out);
  }
  GstCaps *caps = gst_pad_get_current_caps (f.h->sinkpad);
  ASSERT_NE (caps, nullptr);
  EXPECT_STREQ (gst_structure_get_name (gst_caps_get_structure (caps, 0)),
      "audio/x-mulaw");
  gst_caps_unref (caps);

  EXPECT_EQ (stat_u64 (f.src, "packets-received"), 3u);
  EXPECT_EQ (stat_u64 (f.src, "packets-pushed"), 3u);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
  /* Latched to where the packets came from. */
  EXPECT_EQ (stat_string (f.src, "latched-address"), peer.address ());
  auto call = RtpCallRegistry::instance ().find ("port:" +
      std::to_string (f.port));
  ASSERT_TRUE (call);
  GSocketAddress *latched = call->latched_address ();
  ASSERT_NE (latched, nullptr);
  EXPECT_EQ (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (latched)),
      peer.port);
  g_object_unref (latched);
}

/* Downstream that takes 16-bit audio only (a resampler): siprtpsrc decodes
 * the call's G.711 itself, no decoder element in between. */
TEST (SipRtpSrc, DecodesToRawAudioWhenDownstreamTakesNothingElse)
{
  SrcFixture f ("address=127.0.0.1 latency=5000",
      "audio/x-raw, format=S16LE, rate=8000, channels=1, layout=interleaved");
  ASSERT_NE (f.port, 0);
  Peer peer;
  /* mu-law 0x00, 0x80, 0xff: the extremes and zero. */
  const std::pair<guint8, gint16> codes[] = { {0x00, -32124}, {0x80, 32124}, {0xff, 0} };
  guint16 seq = 1;
  for (const auto & code : codes)
    peer.send_to (f.port, audio_packet (seq++, code.first));
  ASSERT_TRUE (wait_for_received (f.src, 3));
  GstClockTime pts = 0;
  for (const auto & code : codes) {
    GstBuffer *out = gst_harness_try_pull (f.h);
    ASSERT_NE (out, nullptr) << "code " << int (code.first);
    auto bytes = buffer_bytes (out);
    ASSERT_EQ (bytes.size (), 2 * kFrame);
    for (guint i = 0; i < kFrame; i++)
      ASSERT_EQ (gint16 (bytes[2 * i] | (bytes[2 * i + 1] << 8)), code.second) << i;
    EXPECT_EQ (GST_BUFFER_PTS (out), pts);
    EXPECT_EQ (GST_BUFFER_DURATION (out), 20 * GST_MSECOND);
    pts += 20 * GST_MSECOND;
    gst_buffer_unref (out);
  }
  GstCaps *caps = gst_pad_get_current_caps (f.h->sinkpad);
  ASSERT_NE (caps, nullptr);
  EXPECT_STREQ (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/x-raw");
  gst_caps_unref (caps);
}

TEST (SipRtpSrc, IsALiveSourceWithItsLatency)
{
  SrcFixture f ("address=127.0.0.1 latency=80");
  GstQuery *query = gst_query_new_latency ();
  ASSERT_TRUE (gst_pad_peer_query (f.h->sinkpad, query));
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  gst_query_parse_latency (query, &live, &min, &max);
  gst_query_unref (query);
  EXPECT_TRUE (live);
  EXPECT_EQ (min, 80 * GST_MSECOND);

  /* stream-start, caps and segment before any packet. */
  std::vector<GstEventType> types;
  while (GstEvent *event = gst_harness_try_pull_event (f.h)) {
    types.push_back (GST_EVENT_TYPE (event));
    gst_event_unref (event);
  }
  EXPECT_EQ (types, (std::vector<GstEventType> { GST_EVENT_STREAM_START,
          GST_EVENT_CAPS, GST_EVENT_SEGMENT }));
  EXPECT_EQ (gst_element_set_state (f.src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
}

TEST (SipRtpSrc, DeclaresLossAfterTheLatencyWithAGap)
{
  SrcFixture f ("address=127.0.0.1 latency=100");
  Peer peer;
  for (guint16 seq : { 1, 2, 4, 5 })
    peer.send_to (f.port, audio_packet (seq, static_cast<guint8> (seq)));
  ASSERT_TRUE (wait_for_received (f.src, 4));
  /* 4 and 5 wait for 3. */
  std::vector<Output> out = f.drain ();
  EXPECT_EQ (values (out), (std::vector<guint> { 1, 2 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);

  /* Not yet: a millisecond short of the latency. */
  advance_clock (f.h, 99 * GST_MSECOND);
  g_usleep (150 * 1000);        /* more than the receive thread's wait */
  EXPECT_TRUE (f.drain ().empty ());
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);

  advance_clock (f.h, 1 * GST_MSECOND);
  GstBuffer *buffer = pull_waiting (f.h);
  ASSERT_NE (buffer, nullptr);
  EXPECT_EQ (buffer_bytes (buffer)[0], 4);
  EXPECT_TRUE (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buffer);
  buffer = pull_waiting (f.h);
  ASSERT_NE (buffer, nullptr);
  EXPECT_EQ (buffer_bytes (buffer)[0], 5);
  gst_buffer_unref (buffer);
  /* The loss reaches downstream as a gap, not as made-up audio. */
  bool gap = false;
  while (GstEvent *event = gst_harness_try_pull_event (f.h)) {
    gap |= GST_EVENT_TYPE (event) == GST_EVENT_GAP;
    gst_event_unref (event);
  }
  EXPECT_TRUE (gap);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 1u);
  EXPECT_EQ (stat_u64 (f.src, "packets-pushed"), 4u);
}

TEST (SipRtpSrc, GapCoversTheLostPacketsAndDiscontFollows)
{
  SrcFixture f ("address=127.0.0.1 latency=0");
  Peer peer;
  /* latency 0: a gap is given up at once. */
  for (guint16 seq : { 1, 2, 5, 6 })
    peer.send_to (f.port, audio_packet (seq, static_cast<guint8> (seq)));
  ASSERT_TRUE (wait_for_received (f.src, 4));
  std::vector<Output> out = f.drain ();
  ASSERT_EQ (values (out), (std::vector<guint> { 1, 2, kGap, 5, 6 }));
  EXPECT_EQ (out[2].pts, 40 * GST_MSECOND);
  EXPECT_EQ (out[2].duration, 40 * GST_MSECOND);   /* 3 and 4 */
  EXPECT_TRUE (out[3].discont);
  EXPECT_EQ (out[3].pts, 80 * GST_MSECOND);
  EXPECT_FALSE (out[4].discont);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 2u);

  /* 3 arriving now is late: dropped and counted. */
  peer.send_to (f.port, audio_packet (3, 3));
  peer.send_to (f.port, audio_packet (7, 7));
  ASSERT_TRUE (wait_for_received (f.src, 6));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 7 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 1u);
  EXPECT_EQ (stat_u64 (f.src, "packets-duplicate"), 0u);
}

TEST (SipRtpSrc, GapFollowsTheTimestampsNotTheCountOfMissingPackets)
{
  SrcFixture f ("address=127.0.0.1 latency=0");
  Peer peer;
  auto packet = [] (guint16 seq, guint32 ts, guint8 fill) {
    return rtp_packet (0, seq, ts, std::vector<guint8> (kFrame, fill));
  };
  /* The sender skips 100 sequence numbers but not a moment of audio. */
  peer.send_to (f.port, packet (1, 0, 1));
  peer.send_to (f.port, packet (2, 160, 2));
  peer.send_to (f.port, packet (103, 320, 3));
  ASSERT_TRUE (wait_for_received (f.src, 3));
  std::vector<Output> out = f.drain ();
  ASSERT_EQ (values (out), (std::vector<guint> { 1, 2, 3 }));
  EXPECT_TRUE (out[2].discont);
  EXPECT_EQ (out[2].pts, 40 * GST_MSECOND);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 100u);
}

TEST (SipRtpSrc, DropsDuplicatesAndLatePackets)
{
  SrcFixture f;
  Peer peer;
  peer.send_to (f.port, audio_packet (1, 1));
  peer.send_to (f.port, audio_packet (2, 2));
  peer.send_to (f.port, audio_packet (2, 2));
  peer.send_to (f.port, audio_packet (3, 3));
  ASSERT_TRUE (wait_for_received (f.src, 4));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 1, 2, 3 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-duplicate"), 1u);

  /* A duplicate of a packet waiting behind a gap. */
  peer.send_to (f.port, audio_packet (5, 5));
  peer.send_to (f.port, audio_packet (5, 5));
  peer.send_to (f.port, audio_packet (4, 4));
  ASSERT_TRUE (wait_for_received (f.src, 7));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 4, 5 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-duplicate"), 2u);

  /* Packet 2 once more, long after it went out: a duplicate too; a packet
   * from before the stream began is late. */
  peer.send_to (f.port, audio_packet (2, 2));
  peer.send_to (f.port, audio_packet (0, 0));
  peer.send_to (f.port, audio_packet (6, 6));
  ASSERT_TRUE (wait_for_received (f.src, 10));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 6 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-duplicate"), 3u);
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 1u);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
  EXPECT_EQ (stat_u64 (f.src, "packets-pushed"), 6u);
}

TEST (SipRtpSrc, FollowsTheSequenceNumberAcrossItsWrap)
{
  SrcFixture f ("address=127.0.0.1 latency=5000");
  Peer peer;
  auto packet = [] (guint16 seq, guint8 fill) {
    return rtp_packet (0, seq, 5000 + guint32 (fill) * kFrame,
        std::vector<guint8> (kFrame, fill));
  };
  peer.send_to (f.port, packet (65534, 1));
  peer.send_to (f.port, packet (0, 3));           /* before 65535 */
  peer.send_to (f.port, packet (65535, 2));
  peer.send_to (f.port, packet (1, 4));
  ASSERT_TRUE (wait_for_received (f.src, 4));
  std::vector<Output> out = f.drain ();
  EXPECT_EQ (values (out), (std::vector<guint> { 1, 2, 3, 4 }));
  for (size_t i = 0; i < out.size (); i++)
    EXPECT_EQ (out[i].pts, i * 20 * GST_MSECOND) << i;
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 0u);
}

TEST (SipRtpSrc, RestartsOnANewSsrc)
{
  SrcFixture f ("address=127.0.0.1 latency=5000");
  Peer peer;
  auto packet = [] (guint32 ssrc, guint16 seq, guint32 ts, guint8 fill) {
    return rtp_packet (0, seq, ts, std::vector<guint8> (kFrame, fill), false,
        ssrc);
  };
  peer.send_to (f.port, packet (0xaaaa, 1000, 8000, 1));
  peer.send_to (f.port, packet (0xaaaa, 1001, 8160, 2));
  /* The sender restarts: another SSRC, an earlier sequence number and
   * another timestamp base. Nothing of it is late or waits. */
  peer.send_to (f.port, packet (0xbbbb, 10, 90000, 3));
  peer.send_to (f.port, packet (0xbbbb, 11, 90160, 4));
  ASSERT_TRUE (wait_for_received (f.src, 4));
  std::vector<Output> out = f.drain ();
  ASSERT_EQ (values (out), (std::vector<guint> { 1, 2, 3, 4 }));
  EXPECT_TRUE (out[2].discont);
  EXPECT_FALSE (out[3].discont);
  /* The new stream goes on from where the old one ended. */
  EXPECT_GE (out[2].pts, out[1].pts + out[1].duration);
  EXPECT_EQ (out[3].pts, out[2].pts + 20 * GST_MSECOND);
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 0u);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
}

TEST (SipRtpSrc, RestartsAfterAConfirmedSequenceJump)
{
  SrcFixture f ("address=127.0.0.1 latency=5000");
  Peer peer;
  peer.send_to (f.port, audio_packet (100, 1));
  /* A lone packet from far away is not believed... */
  peer.send_to (f.port, audio_packet (30000, 2));
  peer.send_to (f.port, audio_packet (101, 3));
  ASSERT_TRUE (wait_for_received (f.src, 3));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 1, 3 }));
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 1u);
  /* ...the one after it confirms the jump: a new stream. */
  peer.send_to (f.port, audio_packet (40000, 4));
  peer.send_to (f.port, audio_packet (40001, 5));
  peer.send_to (f.port, audio_packet (40002, 6));
  ASSERT_TRUE (wait_for_received (f.src, 6));
  std::vector<Output> out = f.drain ();
  EXPECT_EQ (values (out), (std::vector<guint> { 5, 6 }));
  ASSERT_FALSE (out.empty ());
  EXPECT_TRUE (out[0].discont);
  EXPECT_EQ (stat_u64 (f.src, "packets-late"), 2u);
  EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
}

TEST (SipRtpSrc, DropsAndCountsBadInput)
{
  SrcFixture f;
  Peer peer;
  peer.send_raw (f.port, { 0x80, 0x00, 0x01 });                 /* short */
  peer.send_raw (f.port, std::vector<guint8> (40, 0x00));       /* version 0 */
  peer.send_to (f.port, audio_packet (1, 9, 18));               /* G.729 */
  peer.send_to (f.port, rtp_packet (0, 2, 1160, {}));           /* empty */
  peer.send_to (f.port, rtp_packet (101, 3, 1160, { 1, 2 }));   /* short DTMF */
  peer.send_to (f.port, audio_packet (4, 4));
  ASSERT_TRUE (wait_for_received (f.src, 1));
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 4 }));

  EXPECT_EQ (stat_u64 (f.src, "packets-invalid"), 4u);
  EXPECT_EQ (stat_u64 (f.src, "packets-wrong-payload-type"), 1u);
  EXPECT_EQ (stat_u64 (f.src, "packets-received"), 1u);
}

TEST (SipRtpSrc, SurvivesMalformedDatagrams)
{
  SrcFixture f;
  Peer peer;
  std::vector<std::vector<guint8>> bad = {
    { },                                                /* empty datagram */
    { 0x80 },
    std::vector<guint8> (11, 0x80),                     /* a byte short */
    /* CSRC count 15, no room for them. */
    { 0x8f, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff },
    /* Extension bit, extension header cut off. */
    { 0x90, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde },
    /* Extension of 0xffff words. */
    { 0x90, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff },
    /* Padding bit, padding longer than the packet. */
    { 0xa0, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0x55, 0xff },
    /* Padding bit, padding length 0. */
    { 0xa0, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 1, 0x55, 0x00 },
  };
  /* And noise, the same every run. */
  GRand *rand = g_rand_new_with_seed (4733);
  for (int i = 0; i < 100; i++) {
    std::vector<guint8> noise (g_rand_int_range (rand, 0, 200));
    for (guint8 & b : noise)
      b = static_cast<guint8> (g_rand_int (rand));
    if (!noise.empty () && i % 2 == 0)
      noise[0] = 0x80 | (noise[0] & 0x3f);              /* version 2 */
    if (noise.size () > 1 && i % 4 == 0)
      noise[1] = (noise[1] & 0x80) | (i % 8 == 0 ? 0 : 101);
    bad.push_back (noise);
  }
  g_rand_free (rand);
  for (const auto & datagram : bad)
    peer.send_raw (f.port, datagram);
  /* A well-formed stream still gets through afterwards. */
  const guint64 before = stat_u64 (f.src, "packets-received");
  ASSERT_NE (before, G_MAXUINT64);
  peer.send_to (f.port, rtp_packet (0, 7, 0, std::vector<guint8> (kFrame,
              0x77), false, 0x55aa55aa));
  peer.send_to (f.port, rtp_packet (0, 8, 160, std::vector<guint8> (kFrame,
              0x78), false, 0x55aa55aa));
  const gint64 until = g_get_monotonic_time () + kWaitUs;
  std::vector<guint> seen;
  while (g_get_monotonic_time () < until &&
      (seen.empty () || seen.back () != 0x78)) {
    for (guint v : values (f.drain ()))
      seen.push_back (v);
    g_usleep (1000);
  }
  ASSERT_FALSE (seen.empty ());
  EXPECT_EQ (seen.back (), 0x78u);
  EXPECT_GE (stat_u64 (f.src, "packets-invalid"), 7u);
}

TEST (SipRtpSrc, PostsEachDtmfEventOnce)
{
  SrcFixture f;
  Peer peer;
  guint16 seq = 1;
  peer.send_to (f.port, audio_packet (seq++, 1));
  /* '5': start, two updates, three redundant end packets. */
  const guint32 ts5 = 1000 + 2 * kFrame;
  peer.send_to (f.port, dtmf_packet (seq++, ts5, 5, false, 160, true));
  peer.send_to (f.port, dtmf_packet (seq++, ts5, 5, false, 320));
  peer.send_to (f.port, dtmf_packet (seq++, ts5, 5, false, 480));
  for (int i = 0; i < 3; i++)
    peer.send_to (f.port, dtmf_packet (seq++, ts5, 5, true, 800));
  /* '#': the end packets are lost; the next event reports it. */
  const guint32 ts_hash = ts5 + 2000;
  peer.send_to (f.port, dtmf_packet (seq++, ts_hash, 11, false, 160, true));
  peer.send_to (f.port, dtmf_packet (seq++, ts_hash, 11, false, 400));
  /* 'D', complete; its start packet arrives after an update. */
  const guint32 ts_d = ts_hash + 2000;
  peer.send_to (f.port, dtmf_packet (seq + 1, ts_d, 15, true, 240));
  peer.send_to (f.port, dtmf_packet (seq, ts_d, 15, false, 160, true));
  seq += 2;
  peer.send_to (f.port, dtmf_packet (seq++, ts_d, 15, true, 240));
  peer.send_to (f.port, audio_packet (seq, 2));
  ASSERT_TRUE (wait_for_received (f.src, seq));

  /* The events are not audio. */
  EXPECT_EQ (values (f.drain ()), (std::vector<guint> { 1, 2 }));

  struct Seen {
    std::string digit;
    guint duration_ms;
    std::string call_id;
  };
  std::vector<Seen> seen;
  std::vector<gint> started;
  GstMessage *message;
  while ((message = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (message);
    if (gst_structure_has_name (s, "siprtp-dtmf")) {
      guint duration = 0;
      gst_structure_get_uint (s, "duration-ms", &duration);
      seen.push_back ({ gst_structure_get_string (s, "digit"), duration,
            gst_structure_get_string (s, "call-id") });
    } else if (gst_structure_has_name (s, "dtmf-event")) {
      gint number = -1;
      gst_structure_get_int (s, "number", &number);
      started.push_back (number);
    }
    gst_message_unref (message);
  }
  ASSERT_EQ (seen.size (), 3u);
  EXPECT_EQ (seen[0].digit, "5");
  EXPECT_EQ (seen[0].duration_ms, 100u);
  EXPECT_EQ (seen[0].call_id, "port:" + std::to_string (f.port));
  EXPECT_EQ (seen[1].digit, "#");
  EXPECT_EQ (seen[1].duration_ms, 50u);
  EXPECT_EQ (seen[2].digit, "D");
  EXPECT_EQ (seen[2].duration_ms, 30u);
  EXPECT_EQ (started, (std::vector<gint> { 5, 11, 15 }));
  EXPECT_EQ (stat_u64 (f.src, "dtmf-events"), 3u);
}

TEST (SipRtpSrc, DropsWhatArrivesOnHoldWithoutCountingItLost)
{
  Peer call_socket_owner;
  RtpMediaParams params;
  params.payload_type = 0;
  params.encoding_name = "PCMU";
  auto call = RtpCallRegistry::instance ().add ("test-src-hold",
      call_socket_owner.socket, params);
  ASSERT_TRUE (call);
  {
    SrcFixture f ("call-id=test-src-hold latency=5000");
    Peer peer;
    peer.send_to (f.port, audio_packet (1, 1));
    ASSERT_TRUE (wait_for_received (f.src, 1));
    params.receive = false;
    call->update (params);
    peer.send_to (f.port, audio_packet (2, 2));
    peer.send_to (f.port, audio_packet (3, 3));
    const gint64 until = g_get_monotonic_time () + kWaitUs;
    while (stat_u64 (f.src, "packets-not-receiving") < 2 &&
        g_get_monotonic_time () < until)
      g_usleep (1000);
    EXPECT_EQ (stat_u64 (f.src, "packets-not-receiving"), 2u);
    params.receive = true;
    call->update (params);
    peer.send_to (f.port, audio_packet (4, 4));
    peer.send_to (f.port, audio_packet (5, 5));
    ASSERT_TRUE (wait_for_received (f.src, 3));
    std::vector<Output> out = f.drain ();
    ASSERT_EQ (values (out), (std::vector<guint> { 1, 4, 5 }));
    EXPECT_TRUE (out[1].discont);
    EXPECT_EQ (stat_u64 (f.src, "packets-lost"), 0u);
  }
  RtpCallRegistry::instance ().remove ("test-src-hold");
}

TEST (SipRtpSrc, BindsToASipdCallAndFollowsItsUpdates)
{
  Peer call_socket_owner;   /* stands in for sipd's RTP port */
  GSocket *socket = call_socket_owner.socket;
  RtpMediaParams params;
  params.payload_type = 8;
  params.encoding_name = "PCMA";
  params.dtmf_payload_type = 101;
  auto call = RtpCallRegistry::instance ().add ("test-src-call", socket,
      params);
  ASSERT_TRUE (call);
  {
    SrcFixture f ("call-id=test-src-call");
    EXPECT_EQ (f.port, call_socket_owner.port);
    Peer peer;
    peer.send_to (f.port, audio_packet (1, 0x21, 8));
    peer.send_to (f.port, audio_packet (2, 0x22, 0));     /* not negotiated */
    peer.send_to (f.port, audio_packet (3, 0x23, 8));
    ASSERT_TRUE (wait_for_received (f.src, 2));
    /* 2 was filtered out, so 3 waits for it until the latency is over. */
    advance_clock (f.h, 60 * GST_MSECOND);
    for (guint8 expected : { 0x21, 0x23 }) {
      GstBuffer *out = pull_waiting (f.h);
      ASSERT_NE (out, nullptr);
      EXPECT_EQ (buffer_bytes (out)[0], expected);
      gst_buffer_unref (out);
    }
    GstCaps *caps = gst_pad_get_current_caps (f.h->sinkpad);
    EXPECT_STREQ (gst_structure_get_name (gst_caps_get_structure (caps, 0)),
        "audio/x-alaw");
    gst_caps_unref (caps);
    EXPECT_EQ (stat_u64 (f.src, "packets-wrong-payload-type"), 1u);

    /* re-INVITE to PCMU: the output follows. */
    params.payload_type = 0;
    params.encoding_name = "PCMU";
    call->update (params);
    peer.send_to (f.port, audio_packet (4, 0x24, 0));
    peer.send_to (f.port, audio_packet (5, 0x25, 8));     /* no longer */
    peer.send_to (f.port, audio_packet (6, 0x26, 0));
    ASSERT_TRUE (wait_for_received (f.src, 4));
    advance_clock (f.h, 60 * GST_MSECOND);
    for (guint8 expected : { 0x24, 0x26 }) {
      GstBuffer *out = pull_waiting (f.h);
      ASSERT_NE (out, nullptr);
      EXPECT_EQ (buffer_bytes (out)[0], expected);
      gst_buffer_unref (out);
    }
    caps = gst_pad_get_current_caps (f.h->sinkpad);
    EXPECT_STREQ (gst_structure_get_name (gst_caps_get_structure (caps, 0)),
        "audio/x-mulaw");
    gst_caps_unref (caps);
    EXPECT_EQ (stat_u64 (f.src, "packets-wrong-payload-type"), 2u);
  }
  RtpCallRegistry::instance ().remove ("test-src-call");
}

TEST (SipRtpSrc, APipelineOnItsWayDownDoesNotHoldUpOtherCalls)
{
  GstElement *pipeline = gst_parse_launch ("siprtpsrc name=src "
      "address=127.0.0.1 ! fakesink", nullptr);
  ASSERT_NE (pipeline, nullptr);
  ASSERT_NE (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  guint port = 0;
  g_object_get (src, "local-port", &port, nullptr);
  Peer peer;
  peer.send_to (port, audio_packet (1, 1));
  ASSERT_TRUE (wait_for_received (src, 1));

  /* The pipeline goes to PAUSED and its sink waits for preroll; the source
   * stays in PLAYING a moment longer (here: as long as the test wants). */
  gst_element_set_locked_state (src, TRUE);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  peer.send_to (port, audio_packet (2, 2));
  peer.send_to (port, audio_packet (3, 3));

  /* Another call still gets its packets through the shared thread. On a
   * thread of its own: were the shared thread stuck in the sink, even
   * starting it would wait (until the pipeline below goes down). */
  std::promise<bool> other_done;
  std::thread other_call ([&other_done] {
        SrcFixture other;
        Peer caller;
        caller.send_to (other.port, audio_packet (1, 1));
        other_done.set_value (wait_for_received (other.src, 1));
      });
  auto other_received = other_done.get_future ();
  const bool in_time = other_received.wait_for (std::chrono::seconds (5)) ==
      std::future_status::ready;
  EXPECT_EQ (stat_u64 (src, "packets-received"), 1u);

  gst_element_set_locked_state (src, FALSE);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  other_call.join ();
  EXPECT_TRUE (in_time);
  EXPECT_TRUE (other_received.get ());
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

TEST (SipRtpSrc, UnknownCallIdFailsToStart)
{
  GstElement *src = gst_element_factory_make ("siprtpsrc", nullptr);
  g_object_set (src, "call-id", "no-such-call", nullptr);
  EXPECT_EQ (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_object_unref (src);
}

/* ----------------------------------------------------------- siprtpsink */

namespace {

/* siprtpsink in a harness sending to a test peer. The harness's test clock
 * starts at 0 (= running time): the pacer sends its first silence packet on
 * the slot at 0 as it starts, then waits on the clock; only cranking the
 * clock (or upstream pushing audio) makes it send. */
struct SinkFixture {
  GstElement *sink;
  GstHarness *h;
  GstBus *bus;
  guint16 port;

  explicit SinkFixture (const std::string & props,
      const char *src_caps = "audio/x-mulaw, rate=8000, channels=1") {
    sink = gst_parse_launch (("siprtpsink " + props).c_str (), nullptr);
    EXPECT_NE (sink, nullptr);
    bus = gst_bus_new ();
    gst_element_set_bus (sink, bus);
    h = gst_harness_new_with_element (sink, "sink", nullptr);
    gst_harness_set_src_caps_str (h, src_caps);
    guint p = 0;
    g_object_get (sink, "local-port", &p, nullptr);
    port = p;
  }
  ~SinkFixture () {
    gst_harness_teardown (h);
    gst_element_set_bus (sink, nullptr);
    gst_object_unref (bus);
    gst_object_unref (sink);
  }

  /* Fires the waits on the clock that a running clock would have fired
   * already: the pacers' scheduler keeps one wait, at the earliest deadline
   * it has filed, and a deadline that moved later since is found stale only
   * when that wait fires (ClockScheduler). */
  void settle () {
    GstTestClock *clock = gst_harness_get_testclock (h);
    for (;;) {
      GstClockID id = nullptr;
      gst_test_clock_wait_for_next_pending_id (clock, &id);
      const bool overdue = gst_clock_id_get_time (id) < gst_clock_get_time (GST_CLOCK (clock));
      gst_clock_id_unref (id);
      if (!overdue)
        break;
      EXPECT_TRUE (gst_test_clock_crank (clock));
    }
    gst_object_unref (clock);
  }
  /* Running time (ms) the pacer waits for next. */
  guint64 pending_ms () {
    settle ();
    GstTestClock *clock = gst_harness_get_testclock (h);
    GstClockID id = nullptr;
    gst_test_clock_wait_for_next_pending_id (clock, &id);
    guint64 ms = gst_clock_id_get_time (id) / GST_MSECOND;
    gst_clock_id_unref (id);
    gst_object_unref (clock);
    return ms;
  }
  /* Moves the clock to the pacer's wait and lets it run. */
  void crank () {
    settle ();
    GstTestClock *clock = gst_harness_get_testclock (h);
    EXPECT_TRUE (gst_test_clock_crank (clock));
    gst_object_unref (clock);
  }
  /* Moves the clock without firing anything. */
  void set_ms (guint ms) {
    GstTestClock *clock = gst_harness_get_testclock (h);
    gst_test_clock_set_time (clock, ms * GST_MSECOND);
    gst_object_unref (clock);
  }

  void push_audio (guint8 fill, guint bytes = kFrame) {
    GstBuffer *buffer = gst_buffer_new_allocate (nullptr, bytes, nullptr);
    gst_buffer_memset (buffer, 0, fill, bytes);
    EXPECT_EQ (gst_harness_push (h, buffer), GST_FLOW_OK);
  }

  guint64 ms_property (const char *name) {
    guint64 value = G_MAXUINT64;
    g_object_get (sink, name, &value, nullptr);
    return value;
  }

  void flush () {
    EXPECT_TRUE (gst_harness_push_event (h, gst_event_new_flush_start ()));
    EXPECT_TRUE (gst_harness_push_event (h, gst_event_new_flush_stop (FALSE)));
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    EXPECT_TRUE (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  }
};

RtpInfo
receive_rtp (Peer & peer, guint16 * from_port = nullptr)
{
  RtpInfo info;
  auto data = peer.receive (from_port);
  EXPECT_FALSE (data.empty ()) << "no RTP arrived";
  if (!data.empty ()) {
    EXPECT_TRUE (parse_rtp (data, &info));
  }
  return info;
}

void
expect_continuous (const std::vector<RtpInfo> & packets)
{
  for (size_t i = 1; i < packets.size (); i++) {
    EXPECT_EQ (guint16 (packets[i - 1].seq + 1), packets[i].seq) << i;
    EXPECT_EQ (packets[i - 1].ts + kFrame, packets[i].ts) << i;
    EXPECT_EQ (packets[i - 1].ssrc, packets[i].ssrc) << i;
  }
}

std::vector<guint8>
slice (const std::vector<guint8> & v, size_t from, size_t to)
{
  return std::vector<guint8> (v.begin () + from, v.begin () + to);
}

}  // namespace

TEST (SipRtpSink, SilenceOnTheSharedSlotsWhileUpstreamIsQuiet)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));       /* the slot at 0, at start */
  for (guint64 slot : {20u, 40u}) {
    EXPECT_EQ (f.pending_ms (), slot);          /* multiples of ptime */
    f.crank ();
    packets.push_back (receive_rtp (peer));
  }
  EXPECT_FALSE (peer.has_datagram ());
  for (const auto & p : packets) {
    EXPECT_EQ (p.pt, 0);
    EXPECT_TRUE (all_bytes (p.payload, 0xff));  /* mu-law silence */
  }
  expect_continuous (packets);
  EXPECT_TRUE (packets[0].marker);              /* first of the stream */
  EXPECT_FALSE (packets[1].marker);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 3u);
  EXPECT_EQ (stat_u64 (f.sink, "silence-packets"), 3u);
  EXPECT_EQ (stat_string (f.sink, "destination"), peer.address ());
}

TEST (SipRtpSink, TalkSpurtStartsAtOnceWithMarkerAndRealTimeTimestamp)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  RtpInfo silence = receive_rtp (peer);
  EXPECT_EQ (f.pending_ms (), 20u);
  /* 27 ms in, between two silence slots: the audio does not wait for 40. */
  f.set_ms (27);
  f.push_audio (0x11);
  RtpInfo first = receive_rtp (peer);
  EXPECT_TRUE (first.marker);
  EXPECT_EQ (first.seq, guint16 (silence.seq + 1));
  EXPECT_EQ (first.ts, silence.ts + 27 * 8);    /* real time elapsed */
  EXPECT_TRUE (all_bytes (first.payload, 0x11));
  /* The next packet is due at 47: audio arriving after that goes at once. */
  f.set_ms (49);
  f.push_audio (0x12);
  RtpInfo second = receive_rtp (peer);
  EXPECT_FALSE (second.marker);
  EXPECT_EQ (second.seq, guint16 (first.seq + 1));
  EXPECT_EQ (second.ts, first.ts + kFrame);
  EXPECT_TRUE (all_bytes (second.payload, 0x12));
  /* Audio a little early (a steady 20 ms pattern with jitter) goes too. */
  f.set_ms (65);
  f.push_audio (0x13);
  RtpInfo third = receive_rtp (peer);
  EXPECT_EQ (third.ts, second.ts + kFrame);
  EXPECT_TRUE (all_bytes (third.payload, 0x13));
  EXPECT_EQ (f.ms_property ("sent-ms"), 60u);
  EXPECT_FALSE (peer.has_datagram ());
}

/* 16-bit audio from upstream (a resampler) is encoded to the call's codec by
 * siprtpsink itself; the pacing and the counts are those of G.711. */
TEST (SipRtpSink, EncodesRawAudioToTheCallsCodec)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 payload=8 remote=" + peer.address (),
      "audio/x-raw, format=S16LE, rate=8000, channels=1, layout=interleaved");
  RtpInfo silence = receive_rtp (peer);
  EXPECT_EQ (silence.pt, 8);
  EXPECT_TRUE (all_bytes (silence.payload, 0xd5));     /* A-law silence */
  f.set_ms (27);
  /* A-law of 1000 (alawenc gives 0xfa) for a whole packet. */
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 2 * kFrame, nullptr);
  GstMapInfo map;
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  for (guint i = 0; i < kFrame; i++) {
    map.data[2 * i] = 1000 & 0xff;
    map.data[2 * i + 1] = 1000 >> 8;
  }
  gst_buffer_unmap (buffer, &map);
  EXPECT_EQ (gst_harness_push (f.h, buffer), GST_FLOW_OK);
  RtpInfo first = receive_rtp (peer);
  EXPECT_TRUE (first.marker);
  EXPECT_EQ (first.pt, 8);
  EXPECT_EQ (first.payload.size (), kFrame);
  EXPECT_TRUE (all_bytes (first.payload, 0xfa));
  EXPECT_EQ (f.ms_property ("sent-ms"), 20u);
  EXPECT_FALSE (peer.has_datagram ());
}

TEST (SipRtpSink, ScheduleMovesEarlierWhenTheFirstPacketCameLate)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  f.set_ms (27);                        /* the first chunk, late */
  f.push_audio (0x51);
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));
  /* The next ones keep coming 9 and then 6 ms before they are due (47, 67):
   * the spurt's schedule moves earlier and they go at once. */
  f.set_ms (38);
  f.push_audio (0x52);
  packets.push_back (receive_rtp (peer));
  f.set_ms (52);
  f.push_audio (0x53);
  packets.push_back (receive_rtp (peer));
  /* Not for a burst, nor by more than a ptime in all: due at 72 now. */
  f.set_ms (60);
  f.push_audio (0x54);
  EXPECT_FALSE (peer.has_datagram ());
  EXPECT_EQ (f.pending_ms (), 72u);
  f.crank ();
  packets.push_back (receive_rtp (peer));
  for (guint8 i = 0; i < 4; i++)
    EXPECT_TRUE (all_bytes (packets[i].payload, 0x51 + i)) << int (i);
  expect_continuous (packets);
}

TEST (SipRtpSink, LessThanAPacketStartsTheSpurtWithSilenceInFront)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  f.set_ms (27);
  f.push_audio (0x21, kFrame / 2);      /* e.g. what audioresample let out */
  RtpInfo first = receive_rtp (peer);
  EXPECT_TRUE (first.marker);
  EXPECT_TRUE (all_bytes (slice (first.payload, 0, kFrame / 2), 0xff));
  EXPECT_TRUE (all_bytes (slice (first.payload, kFrame / 2, kFrame), 0x21));
  /* The rest runs on without a gap. */
  f.set_ms (47);
  f.push_audio (0x22);
  RtpInfo second = receive_rtp (peer);
  EXPECT_TRUE (all_bytes (second.payload, 0x22));
  EXPECT_EQ (second.ts, first.ts + kFrame);
  EXPECT_EQ (f.ms_property ("sent-ms"), 30u);
}

TEST (SipRtpSink, EarlyBurstIsPacedAtPtimeAndNeverBlocksTheProducer)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  RtpInfo silence = receive_rtp (peer);
  f.set_ms (27);
  /* Ten seconds of an answer at once, as a fast model sends it: the push
   * returns at once (a blocked push would stall every session's thread). */
  const guint frames = 500;
  auto pushed = std::async (std::launch::async, [&f, frames] {
        for (guint i = 0; i < frames; i++)
          f.push_audio (static_cast<guint8> (1 + i % 200));
      });
  ASSERT_EQ (pushed.wait_for (std::chrono::seconds (10)), std::future_status::ready);
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));       /* the first one at once */
  EXPECT_EQ (f.ms_property ("queued-ms"), 10000u - 20u);
  for (guint n = 1; n < 4; n++) {
    EXPECT_FALSE (peer.has_datagram ());        /* the rest waits for its time */
    EXPECT_EQ (f.pending_ms (), 27u + 20u * n);
    f.crank ();
    packets.push_back (receive_rtp (peer));
  }
  for (guint n = 0; n < packets.size (); n++) {
    EXPECT_TRUE (all_bytes (packets[n].payload, static_cast<guint8> (1 + n))) << n;
    EXPECT_EQ (packets[n].marker, n == 0) << n;
  }
  expect_continuous (packets);
  EXPECT_EQ (packets[0].ts, silence.ts + 27 * 8);

  /* Barge-in: all of it goes, none reaches the wire. */
  while (GstMessage *m = gst_bus_pop (f.bus))
    gst_message_unref (m);
  f.flush ();
  GstMessage *flushed = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ELEMENT);
  ASSERT_NE (flushed, nullptr);
  guint64 dropped = 0;
  gst_structure_get_uint64 (gst_message_get_structure (flushed), "dropped-ms", &dropped);
  EXPECT_EQ (dropped, 10000u - 80u);
  gst_message_unref (flushed);
  EXPECT_EQ (f.ms_property ("queued-ms"), 0u);
  EXPECT_EQ (f.ms_property ("pending-audio-ms"), 0u);
  /* Back to silence on the shared slots (87 ms now: the slot at 100). */
  EXPECT_EQ (f.pending_ms (), 100u);
  f.crank ();
  RtpInfo after = receive_rtp (peer);
  EXPECT_TRUE (all_bytes (after.payload, 0xff));
  EXPECT_EQ (after.seq, guint16 (packets.back ().seq + 1));
  EXPECT_GE (after.ts - packets.back ().ts, kFrame);    /* no overlap */
  EXPECT_EQ (f.ms_property ("sent-ms"), 80u);
}

TEST (SipRtpSink, LateAudioGoesAtOnceThenSilenceResumesOnTheSlots)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  RtpInfo silence = receive_rtp (peer);
  f.set_ms (27);
  f.push_audio (0x31);
  RtpInfo first = receive_rtp (peer);
  f.set_ms (55);                        /* due at 47: 8 ms late */
  f.push_audio (0x32);
  RtpInfo second = receive_rtp (peer);
  EXPECT_EQ (second.ts, first.ts + kFrame);
  EXPECT_FALSE (second.marker);
  /* Nothing for the packet due at 67 by 87: the talk-spurt is over. */
  EXPECT_EQ (f.pending_ms (), 87u);
  f.crank ();
  EXPECT_FALSE (peer.has_datagram ());
  EXPECT_EQ (f.pending_ms (), 100u);
  f.crank ();
  RtpInfo back = receive_rtp (peer);
  EXPECT_TRUE (all_bytes (back.payload, 0xff));
  EXPECT_FALSE (back.marker);
  EXPECT_EQ (back.seq, guint16 (second.seq + 1));
  EXPECT_EQ (back.ts, silence.ts + 100 * 8);
}

TEST (SipRtpSink, StalledTailGoesPaddedAfterAWholePtime)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  f.set_ms (27);
  f.push_audio (0x41);
  f.push_audio (0x42, 100);
  RtpInfo first = receive_rtp (peer);
  EXPECT_FALSE (peer.has_datagram ());  /* maybe more is coming */
  EXPECT_EQ (f.pending_ms (), 67u);
  f.crank ();
  RtpInfo tail = receive_rtp (peer);
  EXPECT_TRUE (all_bytes (slice (tail.payload, 0, 100), 0x42));
  EXPECT_TRUE (all_bytes (slice (tail.payload, 100, kFrame), 0xff));
  EXPECT_EQ (tail.ts, first.ts + kFrame);
  EXPECT_EQ (f.ms_property ("sent-ms"), 32u);   /* 160 + 100 samples */
  EXPECT_EQ (f.pending_ms (), 80u);     /* silence again */
}

TEST (SipRtpSink, UpstreamFlushKeepsSequenceContinuous)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));
  f.set_ms (27);
  for (int i = 0; i < 4; i++)
    f.push_audio (0x31);
  packets.push_back (receive_rtp (peer));
  EXPECT_EQ (f.ms_property ("segment-sent-ms"), 20u);
  f.flush ();
  GstMessage *flushed = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ELEMENT);
  ASSERT_NE (flushed, nullptr);
  const GstStructure *s = gst_message_get_structure (flushed);
  EXPECT_TRUE (gst_structure_has_name (s, "siprtp-flushed"));
  guint64 value = 0;
  gst_structure_get_uint64 (s, "segment-sent-ms", &value);
  EXPECT_EQ (value, 20u);
  gst_structure_get_uint64 (s, "dropped-ms", &value);
  EXPECT_EQ (value, 60u);
  gst_message_unref (flushed);
  f.crank ();                           /* the slot at 40: silence */
  packets.push_back (receive_rtp (peer));
  f.set_ms (50);
  f.push_audio (0x32);                  /* the next answer, at once */
  packets.push_back (receive_rtp (peer));
  EXPECT_TRUE (all_bytes (packets[1].payload, 0x31));
  EXPECT_TRUE (all_bytes (packets[2].payload, 0xff));
  EXPECT_TRUE (all_bytes (packets[3].payload, 0x32));
  EXPECT_TRUE (packets[3].marker);
  for (size_t i = 1; i < packets.size (); i++) {
    EXPECT_EQ (packets[i].seq, guint16 (packets[i - 1].seq + 1)) << i;
    EXPECT_GE (packets[i].ts - packets[i - 1].ts, kFrame) << i;
  }
  EXPECT_EQ (f.ms_property ("sent-ms"), 40u);
  EXPECT_EQ (f.ms_property ("segment-sent-ms"), 20u);  /* the new segment only */
}

TEST (SipRtpSink, SendsWhatIsQueuedThenPassesEos)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  f.set_ms (27);
  f.push_audio (0x71);
  f.push_audio (0x72);
  EXPECT_TRUE (gst_harness_push_event (f.h, gst_event_new_eos ()));
  EXPECT_TRUE (all_bytes (receive_rtp (peer).payload, 0x71));
  EXPECT_EQ (gst_bus_pop_filtered (f.bus, GST_MESSAGE_EOS), nullptr);
  EXPECT_EQ (f.pending_ms (), 47u);
  f.crank ();
  EXPECT_TRUE (all_bytes (receive_rtp (peer).payload, 0x72));
  GstMessage *eos = gst_bus_timed_pop_filtered (f.bus, 5 * GST_SECOND,
      GST_MESSAGE_EOS);
  EXPECT_NE (eos, nullptr);
  if (eos)
    gst_message_unref (eos);
  EXPECT_FALSE (peer.has_datagram ());
}

TEST (SipRtpSink, SendsNothingWhileOnHold)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  auto call = RtpCallRegistry::instance ().find ("port:" +
      std::to_string (f.port));
  ASSERT_TRUE (call);
  RtpInfo before = receive_rtp (peer);
  RtpMediaParams params = call->params ();
  params.send = false;
  call->update (params);
  f.set_ms (27);
  f.push_audio (0x55);                  /* consumed at its pace, not sent */
  f.push_audio (0x56);
  EXPECT_EQ (f.pending_ms (), 47u);
  f.crank ();
  EXPECT_FALSE (peer.has_datagram ());
  EXPECT_EQ (f.ms_property ("queued-ms"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 1u);
  EXPECT_EQ (f.ms_property ("sent-ms"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "audio-ms-discarded"), 40u);
  /* Resumed: next sequence number, timestamp advanced by the held time. */
  params.send = true;
  call->update (params);
  f.set_ms (90);
  f.push_audio (0x57);
  RtpInfo after = receive_rtp (peer);
  EXPECT_EQ (guint16 (before.seq + 1), after.seq);
  EXPECT_EQ (before.ts + 90 * 8, after.ts);
  EXPECT_TRUE (after.marker);
  EXPECT_TRUE (all_bytes (after.payload, 0x57));
}

TEST (SipRtpSink, SymmetricRtpAnswersTheLatchedSource)
{
  Peer sdp_remote;          /* where the SDP says the caller is */
  Peer caller;              /* where its RTP really comes from (NAT) */
  SrcFixture src ("address=127.0.0.1");
  SinkFixture sink ("address=127.0.0.1 port=" + std::to_string (src.port) +
      " remote=" + sdp_remote.address ());
  EXPECT_EQ (sink.port, src.port);
  guint16 from = 0;
  RtpInfo first = receive_rtp (sdp_remote, &from);
  EXPECT_EQ (from, src.port);     /* sent from the receiving socket */
  caller.send_to (src.port, audio_packet (1, 1));
  caller.send_to (src.port, audio_packet (2, 2));
  ASSERT_TRUE (wait_for_received (src.src, 2));   /* the first one latched */
  sink.crank ();
  RtpInfo second = receive_rtp (caller, &from);
  EXPECT_EQ (from, src.port);
  EXPECT_EQ (guint16 (first.seq + 1), second.seq);
  EXPECT_FALSE (sdp_remote.has_datagram ());
  EXPECT_EQ (stat_string (sink.sink, "destination"), caller.address ());
}

TEST (SipRtpSink, BindsToASipdCallWithItsCodecAndPtime)
{
  Peer call_socket_owner;
  Peer remote;
  RtpMediaParams params;
  params.payload_type = 8;
  params.encoding_name = "PCMA";
  params.ptime_ms = 30;
  params.remote_address = "127.0.0.1";
  params.remote_port = remote.port;
  auto call = RtpCallRegistry::instance ().add ("test-sink-call",
      call_socket_owner.socket, params);
  ASSERT_TRUE (call);
  {
    GstElement *sink = gst_element_factory_make ("siprtpsink", nullptr);
    g_object_set (sink, "call-id", "test-sink-call", nullptr);
    GstHarness *h = gst_harness_new_with_element (sink, "sink", nullptr);
    /* The call is PCMA: mu-law is refused, a-law accepted. */
    GstCaps *mulaw = gst_caps_from_string ("audio/x-mulaw, rate=8000, "
        "channels=1");
    GstCaps *alaw = gst_caps_from_string ("audio/x-alaw, rate=8000, "
        "channels=1");
    EXPECT_FALSE (gst_pad_peer_query_accept_caps (h->srcpad, mulaw));
    EXPECT_TRUE (gst_pad_peer_query_accept_caps (h->srcpad, alaw));
    gst_harness_set_src_caps (h, alaw);
    gst_caps_unref (mulaw);
    guint16 from = 0;
    RtpInfo silence = receive_rtp (remote, &from);
    EXPECT_EQ (from, call_socket_owner.port);
    EXPECT_EQ (silence.pt, 8);
    EXPECT_EQ (silence.payload.size (), 240u);    /* 30 ms */
    EXPECT_TRUE (all_bytes (silence.payload, 0xd5));      /* a-law silence */
    GstBuffer *audio = gst_buffer_new_allocate (nullptr, 240, nullptr);
    gst_buffer_memset (audio, 0, 0x66, 240);
    EXPECT_EQ (gst_harness_push (h, audio), GST_FLOW_OK);
    RtpInfo first = receive_rtp (remote);
    EXPECT_TRUE (all_bytes (first.payload, 0x66));
    EXPECT_EQ (first.ts, silence.ts + 240);       /* right after, no overlap */
    /* 60: the spurt is over. Up to then the clock may fire the silence
     * slot at 30 the spurt replaced (found stale, nothing sent). */
    GstTestClock *clock = gst_harness_get_testclock (h);
    for (;;) {
      GstClockID id = nullptr;
      gst_test_clock_wait_for_next_pending_id (clock, &id);
      const GstClockTime at = gst_clock_id_get_time (id);
      gst_clock_id_unref (id);
      if (at > 60 * GST_MSECOND)
        break;
      EXPECT_TRUE (gst_test_clock_crank (clock));
    }
    gst_object_unref (clock);
    RtpInfo second = receive_rtp (remote);
    EXPECT_TRUE (all_bytes (second.payload, 0xd5));
    EXPECT_EQ (first.ts + 240, second.ts);
    gst_harness_teardown (h);
    gst_object_unref (sink);
  }
  RtpCallRegistry::instance ().remove ("test-sink-call");
}

TEST (SipRtpSink, SendsDtmfEventsInTheSequence)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 dtmf-payload=101 remote=" +
      peer.address ());
  RtpInfo audio = receive_rtp (peer);
  EXPECT_EQ (audio.pt, 0);
  EXPECT_TRUE (audio.marker);   /* first packet of the stream */
  gboolean ok = TRUE;
  g_signal_emit_by_name (f.sink, "send-dtmf", "5x", 40u, &ok);
  EXPECT_FALSE (ok);            /* not a digit: nothing queued */
  g_signal_emit_by_name (f.sink, "send-dtmf", "5", 5u, &ok);
  EXPECT_FALSE (ok);            /* too short */
  g_signal_emit_by_name (f.sink, "send-dtmf", "5#", 40u, &ok);
  EXPECT_TRUE (ok);
  /* Digit 5: 2 slots of tone + 2 more end packets, a 60 ms gap of audio,
   * digit #: the same, then audio again. */
  std::vector<RtpInfo> packets;
  for (int i = 0; i < 4 + 3 + 4 + 1; i++) {
    f.crank ();
    packets.push_back (receive_rtp (peer));
  }
  for (size_t i = 0; i < packets.size (); i++) {
    EXPECT_EQ (packets[i].seq, guint16 (audio.seq + 1 + i)) << i;
    EXPECT_EQ (packets[i].ssrc, audio.ssrc) << i;
  }
  auto expect_event = [] (const RtpInfo & p, guint8 event, bool end,
      guint16 duration, guint32 ts, bool marker, int i) {
    EXPECT_EQ (p.pt, 101) << i;
    ASSERT_EQ (p.payload.size (), 4u) << i;
    EXPECT_EQ (p.payload[0], event) << i;
    EXPECT_EQ ((p.payload[1] & 0x80) != 0, end) << i;
    EXPECT_EQ (p.payload[1] & 0x3f, 10) << i;
    EXPECT_EQ ((p.payload[2] << 8) | p.payload[3], duration) << i;
    EXPECT_EQ (p.ts, ts) << i;
    EXPECT_EQ (p.marker, marker) << i;
  };
  const guint32 five_ts = audio.ts + kFrame;
  expect_event (packets[0], 5, false, 160, five_ts, true, 0);
  expect_event (packets[1], 5, true, 320, five_ts, false, 1);
  expect_event (packets[2], 5, true, 320, five_ts, false, 2);
  expect_event (packets[3], 5, true, 320, five_ts, false, 3);
  for (int i = 4; i < 7; i++) {
    EXPECT_EQ (packets[i].pt, 0) << i;
    EXPECT_EQ (packets[i].ts, audio.ts + (i + 1) * kFrame) << i;
  }
  const guint32 hash_ts = audio.ts + 8 * kFrame;
  expect_event (packets[7], 11, false, 160, hash_ts, true, 7);
  for (int i = 8; i < 11; i++)
    expect_event (packets[i], 11, true, 320, hash_ts, false, i);
  EXPECT_EQ (packets[11].pt, 0);
  EXPECT_EQ (packets[11].ts, audio.ts + 12 * kFrame);
  EXPECT_EQ (stat_u64 (f.sink, "dtmf-packets"), 8u);
}

TEST (SipRtpSink, DtmfReplacesTheAudioOfItsPackets)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 dtmf-payload=101 remote=" +
      peer.address ());
  receive_rtp (peer);
  gboolean ok = FALSE;
  g_signal_emit_by_name (f.sink, "send-dtmf", "1", 20u, &ok);
  ASSERT_TRUE (ok);
  f.set_ms (27);
  for (int i = 0; i < 4; i++)
    f.push_audio (0x22);
  /* One slot of tone sent three times (end packets), then the audio. */
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));
  for (int i = 0; i < 3; i++) {
    f.crank ();
    packets.push_back (receive_rtp (peer));
  }
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ (packets[i].pt, 101) << i;
    EXPECT_EQ (packets[i].ts, packets[0].ts) << i;
  }
  EXPECT_EQ (packets[3].pt, 0);
  EXPECT_TRUE (all_bytes (packets[3].payload, 0x22));
  EXPECT_EQ (packets[3].ts, packets[0].ts + 3 * kFrame);
  EXPECT_EQ (stat_u64 (f.sink, "dtmf-packets"), 3u);
  EXPECT_EQ (f.ms_property ("sent-ms"), 20u);   /* replaced audio is not counted */
}

/* What the element counts is what reached the wire: packets, bytes, the
 * last sequence number and timestamp, the SSRC. */
TEST (SipRtpSink, CountersMatchWhatThePeerReceived)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  std::vector<std::vector<guint8>> datagrams;
  datagrams.push_back (peer.receive ());
  f.set_ms (27);
  f.push_audio (0x31);
  f.push_audio (0x32);
  datagrams.push_back (peer.receive ());
  EXPECT_EQ (f.pending_ms (), 47u);
  f.crank ();
  datagrams.push_back (peer.receive ());
  EXPECT_FALSE (peer.has_datagram ());
  guint64 bytes = 0;
  RtpInfo last;
  for (const auto & d : datagrams) {
    ASSERT_FALSE (d.empty ());
    bytes += d.size ();
    ASSERT_TRUE (parse_rtp (d, &last));
  }
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), datagrams.size ());
  EXPECT_EQ (stat_u64 (f.sink, "bytes-sent"), bytes);
  EXPECT_EQ (bytes, datagrams.size () * (12 + kFrame));
  EXPECT_EQ (stat_u64 (f.sink, "packets-dropped"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 0u);
  GstStructure *stats = nullptr;
  g_object_get (f.sink, "stats", &stats, nullptr);
  ASSERT_NE (stats, nullptr);
  gint last_seq = -1;
  guint last_rtptime = 0, ssrc = 0;
  gst_structure_get_int (stats, "last-seq", &last_seq);
  gst_structure_get_uint (stats, "last-rtptime", &last_rtptime);
  gst_structure_get_uint (stats, "ssrc", &ssrc);
  gst_structure_free (stats);
  EXPECT_EQ (last_seq, (gint) last.seq);
  EXPECT_EQ (last_rtptime, last.ts);
  EXPECT_EQ (ssrc, last.ssrc);
  EXPECT_EQ (stat_string (f.sink, "destination"), peer.address ());
}

/* A re-INVITE moving the caller's media moves the stream (one sequence);
 * a host name as the destination is resolved when it comes. */
TEST (SipRtpSink, DestinationChangeMidCallMovesTheStream)
{
  Peer first_peer;
  Peer second_peer;
  SinkFixture f ("address=127.0.0.1 remote=" + first_peer.address ());
  auto call = RtpCallRegistry::instance ().find ("port:" +
      std::to_string (f.port));
  ASSERT_TRUE (call);
  RtpInfo before = receive_rtp (first_peer);
  RtpMediaParams params = call->params ();
  params.remote_port = second_peer.port;
  call->update (params);
  f.crank ();
  RtpInfo moved = receive_rtp (second_peer);
  EXPECT_EQ (guint16 (before.seq + 1), moved.seq);
  EXPECT_EQ (before.ssrc, moved.ssrc);
  EXPECT_FALSE (first_peer.has_datagram ());
  EXPECT_EQ (stat_string (f.sink, "destination"), second_peer.address ());

  params.remote_address = "localhost";
  params.remote_port = first_peer.port;
  call->update (params);
  /* The name is looked up off the pacer: slots pass unsent until it is. */
  for (int i = 0; i < 500 && !first_peer.has_datagram (); i++) {
    f.crank ();
    g_usleep (10 * 1000);
  }
  RtpInfo named = receive_rtp (first_peer);
  EXPECT_EQ (guint16 (moved.seq + 1), named.seq);
  EXPECT_FALSE (second_peer.has_datagram ());
  EXPECT_EQ (stat_string (f.sink, "destination"),
      "localhost:" + std::to_string (first_peer.port));
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 3u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 0u);
}

/* A dual-stack socket (bound to "::") answers an IPv4 caller where its
 * RTP comes from. */
TEST (SipRtpSink, SymmetricRtpOnADualStackSocket)
{
  Peer sdp_remote;
  Peer caller;
  SrcFixture src ("address=::");
  SinkFixture sink ("address=:: port=" + std::to_string (src.port) +
      " remote=" + sdp_remote.address ());
  RtpInfo first = receive_rtp (sdp_remote);
  caller.send_to (src.port, audio_packet (1, 1));
  caller.send_to (src.port, audio_packet (2, 2));
  ASSERT_TRUE (wait_for_received (src.src, 2));
  sink.crank ();
  RtpInfo second = receive_rtp (caller);
  EXPECT_EQ (guint16 (first.seq + 1), second.seq);
  EXPECT_FALSE (sdp_remote.has_datagram ());
  EXPECT_EQ (stat_u64 (sink.sink, "send-errors"), 0u);
}

/* An IPv6 socket sends to IPv6 peers, and (dual-stack, bound to "::") to
 * IPv4 ones. */
TEST (SipRtpSink, SendsOverIpv6)
{
  Peer peer6 (G_SOCKET_FAMILY_IPV6);
  {
    SinkFixture f ("address=::1 remote=" + peer6.address ());
    RtpInfo first = receive_rtp (peer6);
    EXPECT_TRUE (first.marker);
    EXPECT_EQ (stat_string (f.sink, "destination"), peer6.address ());
    EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 1u);
  }
  Peer peer4;
  SinkFixture f ("address=:: remote=" + peer4.address ());
  RtpInfo first = receive_rtp (peer4);
  EXPECT_TRUE (first.marker);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 1u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 0u);
}

/* The pacer goes on (@slots more silence slots) and the element posts no
 * error, whatever happens to the packets. */
void
expect_keeps_pacing (SinkFixture & f, guint slots)
{
  const guint64 first = f.pending_ms ();
  for (guint i = 0; i < slots; i++) {
    EXPECT_EQ (f.pending_ms (), first + 20u * i);
    f.crank ();
  }
  GstMessage *error = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ERROR);
  EXPECT_EQ (error, nullptr);
  if (error)
    gst_message_unref (error);
  GstState state;
  gst_element_get_state (f.sink, &state, nullptr, 0);
  EXPECT_EQ (state, GST_STATE_PLAYING);
}

/* Nothing listens at the destination (the caller went away): packets still
 * leave (the socket is not connected, ICMP errors do not come back to it),
 * the pacer goes on. */
TEST (SipRtpSink, KeepsSendingToAPortWithNothingListening)
{
  guint16 closed_port;
  {
    Peer gone;
    closed_port = gone.port;
  }
  SinkFixture f ("address=127.0.0.1 remote=127.0.0.1:" +
      std::to_string (closed_port));
  expect_keeps_pacing (f, 3);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 4u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 0u);
}

/* A destination the kernel refuses (broadcast without SO_BROADCAST):
 * every packet is a counted send error, logged once, and the pacer goes on,
 * taking upstream's audio at its pace. */
TEST (SipRtpSink, SendErrorsAreCountedNotFatal)
{
  SinkFixture f ("address=127.0.0.1 remote=255.255.255.255:4000");
  expect_keeps_pacing (f, 3);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "bytes-sent"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 4u);
  EXPECT_EQ (stat_u64 (f.sink, "packets-dropped"), 0u);
  f.set_ms (65);
  f.push_audio (0x41);
  EXPECT_EQ (f.ms_property ("queued-ms"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 5u);
}

/* A name that does not resolve: a warning, nothing sent, the pacer goes on;
 * the stream starts when the destination changes to one that works. */
TEST (SipRtpSink, UnresolvableDestinationWarnsAndWaitsForAChange)
{
  SinkFixture f ("address=127.0.0.1 remote=no-such-host.invalid:4000");
  EXPECT_EQ (f.pending_ms (), 20u);     /* the slot at 0 is served */
  /* Looked up off the pacer; the warning comes when the lookup fails. */
  GstMessage *warning = gst_bus_timed_pop_filtered (f.bus, 10 * GST_SECOND,
      GST_MESSAGE_WARNING);
  EXPECT_NE (warning, nullptr);
  if (warning)
    gst_message_unref (warning);
  expect_keeps_pacing (f, 2);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 0u);
  EXPECT_EQ (stat_u64 (f.sink, "send-errors"), 0u);
  EXPECT_EQ (stat_string (f.sink, "destination"), "no-such-host.invalid:4000");
  /* Resolved once, not per packet: no more warnings. */
  EXPECT_EQ (gst_bus_pop_filtered (f.bus, GST_MESSAGE_WARNING), nullptr);

  Peer peer;
  auto call = RtpCallRegistry::instance ().find ("port:" +
      std::to_string (f.port));
  ASSERT_TRUE (call);
  RtpMediaParams params = call->params ();
  params.remote_address = "127.0.0.1";
  params.remote_port = peer.port;
  call->update (params);
  f.crank ();
  RtpInfo first = receive_rtp (peer);
  EXPECT_TRUE (first.marker);
  EXPECT_EQ (stat_u64 (f.sink, "packets-sent"), 1u);
}

/* ------------------------------------------------------ gst-launch line */

TEST (SipRtpLaunch, ParsedPipelineSendsReceivesAndReportsDtmf)
{
  Peer caller;
  Peer probe_port;          /* only to pick a free port for the call */
  guint16 port = probe_port.port;
  g_clear_object (&probe_port.socket);
  probe_port.socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);

  gchar *desc = g_strdup_printf ("siprtpsrc name=src address=127.0.0.1 "
      "port=%u ! fakesink "
      "audiotestsrc is-live=true wave=silence ! "
      "audio/x-raw,rate=8000,channels=1 ! mulawenc ! "
      "siprtpsink name=sink address=127.0.0.1 port=%u remote=%s", port, port,
      caller.address ().c_str ());
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  g_free (desc);
  ASSERT_NE (pipeline, nullptr) << (error ? error->message : "");
  ASSERT_NE (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);

  guint16 from = 0;
  RtpInfo rtp = receive_rtp (caller, &from);
  EXPECT_EQ (from, port);
  EXPECT_EQ (rtp.pt, 0);
  EXPECT_EQ (rtp.payload.size (), kFrame);

  caller.send_to (port, audio_packet (1, 1));
  caller.send_to (port, dtmf_packet (2, 1160, 1, false, 160, true));
  for (guint16 seq = 3; seq < 6; seq++)
    caller.send_to (port, dtmf_packet (seq, 1160, 1, true, 640));
  caller.send_to (port, audio_packet (6, 6));

  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message = nullptr;
  for (;;) {
    message = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
        static_cast<GstMessageType> (GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
    if (message == nullptr || GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR
        || gst_structure_has_name (gst_message_get_structure (message),
            "siprtp-dtmf"))
      break;
    gst_message_unref (message);
  }
  ASSERT_NE (message, nullptr);
  ASSERT_EQ (GST_MESSAGE_TYPE (message), GST_MESSAGE_ELEMENT);
  const GstStructure *s = gst_message_get_structure (message);
  EXPECT_STREQ (gst_structure_get_string (s, "digit"), "1");
  guint duration = 0;
  gst_structure_get_uint (s, "duration-ms", &duration);
  EXPECT_EQ (duration, 80u);
  gst_message_unref (message);
  gst_object_unref (bus);

  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  /* The packets after the event's end may still be on their way. */
  EXPECT_TRUE (wait_for_received (src, 6));
  EXPECT_EQ (stat_u64 (src, "packets-received"), 6u);
  gst_object_unref (src);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  EXPECT_FALSE (RtpCallRegistry::instance ().find ("port:" +
          std::to_string (port)));
}

TEST (SipRtpSink, SendDtmfFailsWithoutTelephoneEventPayload)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  gboolean ok = TRUE;
  g_signal_emit_by_name (f.sink, "send-dtmf", "1", 100u, &ok);
  EXPECT_FALSE (ok);
}

TEST (SipRtpSink, QueuedMsIsAudioNotYetOnTheWire)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  EXPECT_EQ (f.ms_property ("queued-ms"), 0u);
  f.set_ms (27);
  for (int i = 0; i < 3; i++)
    f.push_audio (0x31);
  receive_rtp (peer);                   /* the first at once */
  EXPECT_EQ (f.ms_property ("queued-ms"), 40u);
  f.crank ();
  receive_rtp (peer);
  EXPECT_EQ (f.ms_property ("queued-ms"), 20u);
}

namespace {

void
push_item_mark (GstHarness * h, const char *item_id)
{
  GstEvent *event = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new ("voxbridge-playout-item", "item-id", G_TYPE_STRING,
          item_id, nullptr));
  EXPECT_TRUE (gst_harness_push_event (h, event));
}

/* What the barge-in query of realtimesrc gets for @item_id. */
guint64
item_sent_ms (GstHarness * h, const char *item_id)
{
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new ("voxbridge-item-sent", "item-id", G_TYPE_STRING,
          item_id, nullptr));
  EXPECT_TRUE (gst_pad_peer_query (h->srcpad, query));
  guint64 sent = G_MAXUINT64;
  EXPECT_TRUE (gst_structure_get_uint64 (gst_query_get_structure (query),
          "sent-ms", &sent));
  gst_query_unref (query);
  return sent;
}

}  // namespace
TEST (SipRtpSink, CountsEachAnswerItemOnTheWire)
{
  Peer peer;
  SinkFixture f ("address=127.0.0.1 remote=" + peer.address ());
  receive_rtp (peer);
  f.set_ms (27);
  push_item_mark (f.h, "item_a");
  f.push_audio (0xa1);                  /* on the wire at once */
  f.push_audio (0xa2);
  GstBuffer *gap = gst_buffer_new_allocate (nullptr, kFrame, nullptr);
  gst_buffer_memset (gap, 0, 0xff, kFrame);
  GST_BUFFER_FLAG_SET (gap, GST_BUFFER_FLAG_GAP);
  EXPECT_EQ (gst_harness_push (f.h, gap), GST_FLOW_OK);  /* silence: not sent */
  f.push_audio (0xa3);          /* item_a goes on after a silent stretch */
  push_item_mark (f.h, "item_b");
  f.push_audio (0xb1);
  f.push_audio (0xb2);
  EXPECT_EQ (item_sent_ms (f.h, "item_a"), 20u);
  std::vector<RtpInfo> packets;
  packets.push_back (receive_rtp (peer));
  for (int i = 0; i < 3; i++) {
    f.crank ();
    packets.push_back (receive_rtp (peer));
  }
  const guint8 expected[] = {0xa1, 0xa2, 0xa3, 0xb1};
  for (int i = 0; i < 4; i++)
    EXPECT_TRUE (all_bytes (packets[i].payload, expected[i])) << i;
  EXPECT_EQ (item_sent_ms (f.h, "item_a"), 60u);  /* the GAP buffer is not */
  EXPECT_EQ (item_sent_ms (f.h, "item_b"), 20u);
  /* Barge-in: the rest of item_b is dropped, never counted. */
  f.flush ();
  f.set_ms (100);
  f.push_audio (0xc1);          /* no mark: belongs to no item */
  EXPECT_TRUE (all_bytes (receive_rtp (peer).payload, 0xc1));
  EXPECT_EQ (item_sent_ms (f.h, "item_b"), 20u);
  EXPECT_EQ (item_sent_ms (f.h, "never_seen"), 0u);
}

TEST (SipRtpLaunch, SentDtmfIsDecodedBySiprtpsrc)
{
  Peer probe_a, probe_b;        /* only to pick two free ports */
  const guint16 sink_port = probe_a.port, src_port = probe_b.port;
  g_clear_object (&probe_a.socket);
  g_clear_object (&probe_b.socket);
  probe_a.socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  probe_b.socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);

  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true wave=sine ! "
      "audio/x-raw,rate=8000,channels=1 ! mulawenc ! "
      "siprtpsink name=sink address=127.0.0.1 port=%u remote=127.0.0.1:%u "
      "dtmf-payload=101 "
      "siprtpsrc name=src address=127.0.0.1 port=%u dtmf-payload=101 ! "
      "fakesink", sink_port, src_port, src_port);
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  g_free (desc);
  ASSERT_NE (pipeline, nullptr) << (error ? error->message : "");
  ASSERT_NE (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gboolean ok = FALSE;
  g_signal_emit_by_name (sink, "send-dtmf", "19#*", 100u, &ok);
  EXPECT_TRUE (ok);

  GstBus *bus = gst_element_get_bus (pipeline);
  std::string digits;
  while (digits.size () < 4) {
    GstMessage *message = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
        static_cast<GstMessageType> (GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
    ASSERT_NE (message, nullptr) << "digits so far: " << digits;
    ASSERT_EQ (GST_MESSAGE_TYPE (message), GST_MESSAGE_ELEMENT);
    const GstStructure *s = gst_message_get_structure (message);
    if (gst_structure_has_name (s, "siprtp-dtmf")) {
      digits += gst_structure_get_string (s, "digit");
      guint duration = 0;
      gst_structure_get_uint (s, "duration-ms", &duration);
      EXPECT_EQ (duration, 100u) << digits;
    }
    gst_message_unref (message);
  }
  EXPECT_EQ (digits, "19#*");
  gst_object_unref (bus);

  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  EXPECT_EQ (stat_u64 (src, "dtmf-events"), 4u);
  EXPECT_EQ (stat_u64 (src, "packets-lost"), 0u);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  /* Bad input must not even reach a GLib/GStreamer critical. */
  g_log_set_always_fatal (static_cast<GLogLevelFlags> (G_LOG_LEVEL_CRITICAL |
          G_LOG_LEVEL_ERROR));
  ::testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
