/**
 * SECTION:element-siprtpsink
 * @title: siprtpsink
 * @see_also: siprtpsrc, rtppcmupay, rtppcmapay, udpsink
 *
 * Sends G.711 audio (`audio/x-mulaw` or `audio/x-alaw`, 8 kHz mono, the
 * codec the call negotiated) to the caller of one SIP call; 16-bit
 * `audio/x-raw` at 8 kHz is encoded to that codec by the element itself (no
 * encoder element per call after a resampler). Inside: a pacer that writes
 * each RTP packet into a reused buffer and sends it with one sendto() on the
 * call's own socket (no GstBuffer, pad push or udpsink per packet: at a few
 * hundred calls that path was a visible part of the CPU), so the caller gets
 * our RTP from the port it sends to (symmetric RTP), addressed to where its
 * RTP really comes from (latched by siprtpsrc) or else to the SDP address.
 * The destination is worked out again only when the latch or the SDP
 * changes; a host name is resolved then, once. A packet the kernel has no
 * room for (EAGAIN, ENOBUFS) is dropped and counted (`packets-dropped` in
 * `stats`); any other send error (an unreachable network, the caller gone)
 * is counted (`send-errors`) and logged once per kind, never an element
 * error: the SIP side ends the call, RTP keeps its pace until then. The
 * pacer packetises itself rather than through rtppcmupay because DTMF
 * events must share the audio's SSRC, sequence numbers and timestamps.
 *
 * RTP never stops (trunks hang up on RTP inactivity): while upstream sends
 * nothing, the pacer sends a packet of silence every ptime, on slots at
 * multiples of ptime of the pipeline clock that every call shares (one
 * wakeup of the clock's thread serves them all: the pacers of a process
 * share one wait per clock, ClockScheduler, and a deadline is served at
 * most 1 ms after it). Audio is sent as it
 * arrives: audio arriving in silence starts a talk-spurt at once — its first
 * packet leaves from upstream's own push (silence in front of it when less
 * than a packet came), with the RTP marker bit (RFC 3551) and an RTP
 * timestamp that follows the real time elapsed (never overlapping the
 * previous packet). Packet n of the talk-spurt is due at its start + n
 * ptime: sent as its audio completes when that is later, waited for on the
 * clock when the audio came early (a burst faster than real time; audio
 * completing a packet less than a quarter ptime early goes at once), so the
 * long-term rate is real time and a steady 20 ms arrival sees no wait. When
 * the audio of a packet has not come a whole ptime after it was due, what
 * there is goes out padded with silence and the stream returns to silence on
 * the shared slots. Sequence numbers are continuous throughout. GAP buffers
 * are silence: dropped, the pacer has its own. Upstream flushes (barge-in)
 * drop the queued audio and never reach the wire. While the caller holds the
 * call (the SDP says not to send) nothing is sent and upstream audio is
 * discarded at its real-time pace.
 *
 * A live upstream is never blocked (realtimesrc pushes from the thread all
 * Realtime sessions share, a whole answer at once when the model is fast);
 * beyond MAX_QUEUED_LIVE_MS its audio is discarded and counted. A non-live
 * upstream (a file) is held at MAX_QUEUED_MS, so it runs at the pace of the
 * call.
 *
 * `sent-ms` counts the upstream audio that went out on the wire,
 * `segment-sent-ms` the same since the last upstream segment or flush,
 * `queued-ms` the audio accepted but not yet on the wire (how long a buffer
 * accepted now waits), `pending-audio-ms` the same up to the end of the last
 * buffer that was not GAP silence (silence fill does not count: zero means
 * the answer has been heard). On an upstream
 * flush the element posts `siprtp-flushed` with `segment-sent-ms`,
 * `dropped-ms` (queued audio thrown away) and `call-id`. After an upstream
 * EOS the queued audio goes out, then the element posts EOS (it is a sink).
 *
 * Barge-in accounting: realtimesrc marks where each answer item of the model
 * begins (see playout_marks.h); the element counts per item the audio that
 * went out and answers realtimesrc's query with it, so the model's answer is
 * truncated at what the caller really heard.
 *
 * The action signal `send-dtmf` (digits, duration-ms) queues RFC 4733
 * telephone-event packets on the call's negotiated telephone-event payload
 * type; each digit replaces the audio of its packet slots.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! siprtpsink port=40000 remote=127.0.0.1:40002
 * ]| Sends a tone from UDP port 40000 to 127.0.0.1:40002. With a siprtpsrc
 * port=40000 in the same pipeline, answers to wherever the peer's RTP comes
 * from.
 */
#include "gstsiprtpsink.h"

#include <gio/gio.h>
#include <gst/audio/audio.h>
#include <gst/base/gstadapter.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../playout_marks.h"
#include "clock_scheduler.h"
#include "dtmf_sender.h"
#include "g711_codec.h"
#include "io_thread.h"
#include "siprtp_binding.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_rtp_sink_debug);
#define GST_CAT_DEFAULT gst_sip_rtp_sink_debug

#define DEFAULT_CALL_ID nullptr
#define DEFAULT_PORT 0
#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_REMOTE nullptr
#define DEFAULT_PAYLOAD 0
#define DEFAULT_ENCODING nullptr
#define DEFAULT_PTIME 20
#define DEFAULT_DTMF_PAYLOAD -1
#define MAX_PTIME 200
/* Answer items whose sent audio is remembered for the barge-in query. */
#define REMEMBERED_ITEMS 8
/* Audio of a non-live upstream queued beyond this blocks it (it then runs at
 * the pace of the call). */
#define MAX_QUEUED_MS 500
/* A live upstream is never blocked; audio beyond this is discarded. */
#define MAX_QUEUED_LIVE_MS (300 * 1000)
/* A pacer this late (CPU starvation) skips ahead instead of bursting. */
#define MAX_LATENESS (200 * GST_MSECOND)
/* Packets one call of the pacer sends at most (a late clock). */
#define MAX_PACKETS_PER_SERVICE 16
/* RTP header without CSRCs or extension (RFC 3550 5.1). */
#define RTP_HEADER_BYTES 12

using voxbridge::CallBinding;
using voxbridge::ClockScheduler;
using voxbridge::DtmfSender;
using voxbridge::ExplicitRtpSettings;
using voxbridge::G711;
using voxbridge::RtpMediaParams;

namespace {

struct Settings {
  std::string call_id;
  guint port = DEFAULT_PORT;
  std::string address = DEFAULT_ADDRESS;
  std::string remote;
  guint payload = DEFAULT_PAYLOAD;
  bool payload_set = false;
  std::string encoding;
  guint ptime_ms = DEFAULT_PTIME;
  bool ptime_set = false;
  gint dtmf_payload = DEFAULT_DTMF_PAYLOAD;
};

/* Where in the queue (byte offset) audio of an answer item begins; an empty
 * id starts audio that belongs to no item (silence between answers). */
struct ItemMark {
  guint64 offset;
  std::string item_id;
};

/* Upstream audio waiting for its packet. Offsets count bytes (= samples)
 * since READY→PAUSED; segment_starts are offsets where upstream began a new
 * segment, so sent audio can be attributed to its segment. */
struct AudioQueue {
  GstAdapter *adapter = nullptr;
  guint64 enqueued = 0;
  guint64 dequeued = 0;
  guint64 audio_end = 0;        /* enqueued offset after the last non-GAP buffer */
  std::deque<guint64> segment_starts;
  std::deque<ItemMark> item_marks;
  std::string upstream_item;    /* the item upstream announced last */
  bool upstream_in_item = false;  /* last buffer was audio of that item */
};

/* Silence on the shared slot grid, or a talk-spurt anchored where its audio
 * arrived. */
enum class Pace { kGrid, kSpurt };

struct Counters {
  guint64 packets = 0;
  guint64 bytes = 0;
  guint64 silence_packets = 0;
  guint64 audio_bytes = 0;
  guint64 segment_audio_bytes = 0;
  guint64 discarded_audio_bytes = 0;
  guint64 dtmf_packets = 0;
  guint64 packets_dropped = 0;  /* no room in the socket buffer */
  guint64 send_errors = 0;      /* any other failed send */
  gint last_seq = -1;
  guint32 last_rtptime = 0;
  guint32 ssrc = 0;
};

struct State {
  std::unique_ptr<CallBinding> binding;
  std::string call_id;
  guint16 local_port = 0;
  guint64 params_generation = 0;
  G711 codec = G711::PCMU;
  guint ptime_ms = DEFAULT_PTIME;
  guint frame_bytes = DEFAULT_PTIME * 8;
  bool send = true;
  RtpMediaParams params;

  /* upstream side */
  std::condition_variable space;
  bool flushing = true;
  bool eos = false;
  bool caps_ok = false;
  bool raw_input = false;       /* audio/x-raw: encoded here */
  bool live_known = false;      /* upstream's liveness asked since caps */
  bool upstream_live = true;
  bool overflowing = false;     /* live audio being discarded (warned) */
  AudioQueue queue;

  /* pacer: packets leave from upstream's push or from the clock's thread
   * when a deadline set with the process's ClockScheduler is reached, no
   * thread of its own (one wait on the clock serves every call's pacer) */
  std::shared_ptr<ClockScheduler> scheduler;  /* of the element's clock */
  ClockScheduler::Client *scheduler_client = nullptr;
  GstClockTime wake_target = GST_CLOCK_TIME_NONE;  /* running time asked for */
  bool running = false;         /* PLAYING */
  bool finished = false;        /* sent EOS or failed: idle until READY */
  bool stopping = false;        /* PAUSED→READY: no more slots */
  bool discont = false;         /* packets were skipped or not delivered */
  bool stream_started = false;  /* the first packet was built */
  guint32 eos_seqnum = GST_SEQNUM_INVALID;  /* of upstream's EOS */
  Pace pace = Pace::kGrid;
  bool grid_resync = false;     /* next_tick is stale: find the next slot */
  GstClockTime next_tick = 0;   /* running time of the next silence slot */
  GstClockTime spurt_start = 0; /* running time packet 0 of the spurt was due */
  guint64 spurt_packets = 0;    /* packets of the talk-spurt so far */
  guint32 spurt_ts = 0;         /* RTP timestamp of its packet 0 */
  GstClockTime spurt_shift = 0; /* how far its schedule moved earlier */
  GstClockTime last_sent = 0;   /* running time the last packet left */
  GstClockTime ts_origin = 0;   /* running time of RTP time ts_base */
  guint32 last_ts = 0;          /* RTP timestamp of the last packet */
  bool have_last_ts = false;

  /* where packets go: worked out again only when the latch or the SDP
   * changes (the pacer, under tick_lock, is the only one that does) */
  int fd = -1;                  /* the call's socket */
  GSocketFamily family = G_SOCKET_FAMILY_IPV4;
  std::string dest_host;        /* destination as the stats show it */
  guint16 dest_port = 0;
  GSocketAddress *dest_latched = nullptr;  /* the latch dest_* came from */
  bool dest_known = false;      /* dest_* follow the current SDP/latch */
  guint64 dest_latch_generation = 0;   /* the call's latch they follow */
  guint64 dest_params_generation = 0;  /* the SDP parameters they follow */
  sockaddr_storage dest_addr {};  /* dest_host resolved; dest_len 0: none */
  socklen_t dest_len = 0;
  std::vector<int> warned_errnos;  /* send errors logged already */

  /* RTP header fields, audio and DTMF alike */
  guint8 payload_type = 0;
  gint dtmf_pt = -1;            /* telephone-event PT, -1: none negotiated */
  guint32 ssrc = 0;
  guint16 next_seq = 0;
  guint32 ts_base = 0;
  DtmfSender dtmf;

  /* answer items on the wire (barge-in accounting) */
  std::string wire_item;
  std::deque<std::pair<std::string, guint64>> item_sent_bytes;

  Counters counters;
};

/* One RTP packet built under the lock, sent after it is released. */
struct WirePacket {
  guint8 *data;                 /* header and payload */
  guint size;
  guint16 seq;
  guint32 rtptime;
};

/* What one call of the pacer sends once the lock is released: kept in the
 * element and reused (only the pacer, under tick_lock, touches it). The
 * bytes are sized for the call's ptime when it binds. */
struct Outgoing {
  guint count = 0;
  std::vector<guint8> bytes;
  WirePacket packets[MAX_PACKETS_PER_SERVICE] {};

  void size_for (guint frame_bytes) {
    const guint stride = RTP_HEADER_BYTES + frame_bytes;
    bytes.assign (stride * MAX_PACKETS_PER_SERVICE, 0);
    for (guint i = 0; i < MAX_PACKETS_PER_SERVICE; i++)
      packets[i].data = bytes.data () + i * stride;
  }
};

}  // namespace

struct GstSipRtpSinkPrivate {
  std::mutex lock;
  /* Held while a packet slot is served: stopping the pacer waits for it. */
  std::mutex tick_lock;
  Settings settings;
  State state;
  Outgoing out;
};

struct _GstSipRtpSink {
  GstElement parent;

  GstPad *sinkpad;

  GstSipRtpSinkPrivate *priv;
};

enum {
  PROP_0,
  PROP_CALL_ID,
  PROP_PORT,
  PROP_ADDRESS,
  PROP_REMOTE,
  PROP_PAYLOAD,
  PROP_ENCODING,
  PROP_PTIME,
  PROP_LOCAL_PORT,
  PROP_SENT_MS,
  PROP_SEGMENT_SENT_MS,
  PROP_QUEUED_MS,
  PROP_PENDING_AUDIO_MS,
  PROP_DTMF_PAYLOAD,
  PROP_STATS,
};

enum {
  SIGNAL_SEND_DTMF,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1; "
        "audio/x-alaw, rate = (int) 8000, channels = (int) 1; "
        "audio/x-raw, format = (string) " GST_AUDIO_NE (S16) ", rate = (int) 8000, "
        "channels = (int) 1, layout = (string) interleaved"));

#define gst_sip_rtp_sink_parent_class parent_class
G_DEFINE_TYPE (GstSipRtpSink, gst_sip_rtp_sink, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (siprtpsink, "siprtpsink", GST_RANK_NONE,
    GST_TYPE_SIP_RTP_SINK);

static void gst_sip_rtp_sink_finalize (GObject * object);
static void gst_sip_rtp_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_sip_rtp_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_sip_rtp_sink_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_sip_rtp_sink_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_sip_rtp_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_sip_rtp_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_sip_rtp_sink_send_event (GstElement * element,
    GstEvent * event);
static gboolean gst_sip_rtp_sink_element_query (GstElement * element,
    GstQuery * query);
static void leave_clock_scheduler (GstSipRtpSink * self);
static gboolean gst_sip_rtp_sink_send_dtmf (GstSipRtpSink * self,
    const gchar * digits, guint duration_ms);

static void
gst_sip_rtp_sink_class_init (GstSipRtpSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_sip_rtp_sink_finalize;
  gobject_class->set_property = gst_sip_rtp_sink_set_property;
  gobject_class->get_property = gst_sip_rtp_sink_get_property;

  auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  auto ro_flags = static_cast<GParamFlags> (G_PARAM_READABLE |
      G_PARAM_STATIC_STRINGS);

  g_object_class_install_property (gobject_class, PROP_CALL_ID,
      g_param_spec_string ("call-id", "Call ID",
          "Bind to this call of the in-process sipd (overrides the explicit "
          "port/remote/payload settings)", DEFAULT_CALL_ID, flags));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "Local UDP port to send from without call-id (0 = any free port; "
          "shared with a siprtpsrc of the same port)", 0, 65535, DEFAULT_PORT,
          flags));
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Local address to bind without call-id", DEFAULT_ADDRESS, flags));
  g_object_class_install_property (gobject_class, PROP_REMOTE,
      g_param_spec_string ("remote", "Remote",
          "Where to send as host:port without call-id (until the caller's "
          "RTP source is latched)", DEFAULT_REMOTE, flags));
  g_object_class_install_property (gobject_class, PROP_PAYLOAD,
      g_param_spec_uint ("payload", "Payload type",
          "RTP payload type without call-id (0 = PCMU, 8 = PCMA, 96-127 "
          "dynamic with encoding)", 0, 127, DEFAULT_PAYLOAD, flags));
  g_object_class_install_property (gobject_class, PROP_ENCODING,
      g_param_spec_string ("encoding", "Encoding",
          "Encoding name (PCMU or PCMA) for a dynamic payload type",
          DEFAULT_ENCODING, flags));
  g_object_class_install_property (gobject_class, PROP_PTIME,
      g_param_spec_uint ("ptime", "Packet time",
          "Milliseconds of audio per packet without call-id", 10, MAX_PTIME,
          DEFAULT_PTIME, flags));
  g_object_class_install_property (gobject_class, PROP_DTMF_PAYLOAD,
      g_param_spec_int ("dtmf-payload", "DTMF payload type",
          "telephone-event payload type for send-dtmf without call-id (-1 = "
          "the one a siprtpsrc on the same port receives)", -1, 127,
          DEFAULT_DTMF_PAYLOAD, flags));
  g_object_class_install_property (gobject_class, PROP_LOCAL_PORT,
      g_param_spec_uint ("local-port", "Local port",
          "The UDP port RTP is sent from (from READY on)", 0, 65535, 0,
          ro_flags));
  g_object_class_install_property (gobject_class, PROP_SENT_MS,
      g_param_spec_uint64 ("sent-ms", "Sent milliseconds",
          "Upstream audio sent on the wire, in milliseconds (silence the "
          "element fills in is not counted)", 0, G_MAXUINT64, 0, ro_flags));
  g_object_class_install_property (gobject_class, PROP_SEGMENT_SENT_MS,
      g_param_spec_uint64 ("segment-sent-ms", "Segment sent milliseconds",
          "Upstream audio of the current segment (since the last upstream "
          "segment event or flush) sent on the wire, in milliseconds", 0,
          G_MAXUINT64, 0, ro_flags));
  g_object_class_install_property (gobject_class, PROP_QUEUED_MS,
      g_param_spec_uint64 ("queued-ms", "Queued milliseconds",
          "Upstream audio accepted but not yet sent on the wire, in "
          "milliseconds", 0, G_MAXUINT64, 0, ro_flags));
  g_object_class_install_property (gobject_class, PROP_PENDING_AUDIO_MS,
      g_param_spec_uint64 ("pending-audio-ms", "Pending audio milliseconds",
          "Upstream audio not yet sent on the wire, up to the end of the last "
          "buffer that was not GAP silence (0: what upstream played has been "
          "sent)", 0, G_MAXUINT64, 0, ro_flags));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Packets and bytes sent, silence packets, packets dropped (no room "
          "in the socket buffer) and other send errors, last sequence "
          "number, destination", GST_TYPE_STRUCTURE, ro_flags));

  /**
   * GstSipRtpSink::send-dtmf:
   * @digits: "0"-"9", "*", "#", "A"-"D"
   * @duration_ms: length of each digit's tone (20-5000 ms)
   *
   * Queues RFC 4733 telephone-event packets for @digits, sent in place of
   * audio, 60 ms apart. Returns FALSE (and sends nothing) for a bad digit or
   * duration, or when the call negotiated no telephone-event payload type.
   */
  signals[SIGNAL_SEND_DTMF] = g_signal_new_class_handler ("send-dtmf",
      G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_sip_rtp_sink_send_dtmf), nullptr, nullptr, nullptr,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_UINT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "SIP call RTP sink",
      "Sink/Network", "Sends G.711 audio to the caller of a SIP call",
      "voxbridge");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_send_event);
  element_class->query = GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_element_query);

  GST_DEBUG_CATEGORY_INIT (gst_sip_rtp_sink_debug, "voxbridge-siprtpsink", 0,
      "SIP call RTP sink");
}

static void
gst_sip_rtp_sink_init (GstSipRtpSink * self)
{
  self->priv = new GstSipRtpSinkPrivate ();
  State & state = self->priv->state;

  state.queue.adapter = gst_adapter_new ();

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_sip_rtp_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  /* A pipeline waits for its sinks' EOS messages. */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_sip_rtp_sink_finalize (GObject * object)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (object);
  State & state = self->priv->state;

  leave_clock_scheduler (self);
  g_object_unref (state.queue.adapter);
  g_clear_object (&state.dest_latched);
  delete self->priv;

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
set_string (std::string & target, const GValue * value)
{
  const gchar *s = g_value_get_string (value);
  target = s ? s : "";
}

static void
gst_sip_rtp_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  Settings & settings = self->priv->settings;

  switch (prop_id) {
    case PROP_CALL_ID:
      set_string (settings.call_id, value);
      break;
    case PROP_PORT:
      settings.port = g_value_get_uint (value);
      break;
    case PROP_ADDRESS:
      set_string (settings.address, value);
      if (settings.address.empty ())
        settings.address = DEFAULT_ADDRESS;
      break;
    case PROP_REMOTE:
      set_string (settings.remote, value);
      break;
    case PROP_PAYLOAD:
      settings.payload = g_value_get_uint (value);
      settings.payload_set = true;
      break;
    case PROP_ENCODING:
      set_string (settings.encoding, value);
      break;
    case PROP_PTIME:
      settings.ptime_ms = g_value_get_uint (value);
      settings.ptime_set = true;
      break;
    case PROP_DTMF_PAYLOAD:
      settings.dtmf_payload = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static guint64
bytes_to_ms (guint64 bytes)
{
  /* G.711 at 8 kHz: one byte per sample, 8 per millisecond. */
  return bytes / 8;
}

static void
gst_sip_rtp_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  const Settings & settings = self->priv->settings;
  const State & state = self->priv->state;
  auto nullable = [] (const std::string & s) {
    return s.empty () ? nullptr : s.c_str ();
  };

  switch (prop_id) {
    case PROP_CALL_ID:
      g_value_set_string (value, nullable (settings.call_id));
      break;
    case PROP_PORT:
      g_value_set_uint (value, settings.port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, settings.address.c_str ());
      break;
    case PROP_REMOTE:
      g_value_set_string (value, nullable (settings.remote));
      break;
    case PROP_PAYLOAD:
      g_value_set_uint (value, settings.payload);
      break;
    case PROP_ENCODING:
      g_value_set_string (value, nullable (settings.encoding));
      break;
    case PROP_PTIME:
      g_value_set_uint (value, settings.ptime_ms);
      break;
    case PROP_DTMF_PAYLOAD:
      g_value_set_int (value, settings.dtmf_payload);
      break;
    case PROP_QUEUED_MS:
      g_value_set_uint64 (value,
          bytes_to_ms (gst_adapter_available (state.queue.adapter)));
      break;
    case PROP_PENDING_AUDIO_MS:
      g_value_set_uint64 (value, bytes_to_ms (state.queue.audio_end > state.queue.dequeued ?
              state.queue.audio_end - state.queue.dequeued : 0));
      break;
    case PROP_LOCAL_PORT:
      g_value_set_uint (value, state.local_port);
      break;
    case PROP_SENT_MS:
      g_value_set_uint64 (value, bytes_to_ms (state.counters.audio_bytes));
      break;
    case PROP_SEGMENT_SENT_MS:
      g_value_set_uint64 (value,
          bytes_to_ms (state.counters.segment_audio_bytes));
      break;
    case PROP_STATS:{
      const Counters & c = state.counters;
      std::string destination;
      if (!state.dest_host.empty ())
        destination = (state.dest_host.find (':') != std::string::npos ?
            "[" + state.dest_host + "]" : state.dest_host) + ":" +
            std::to_string (state.dest_port);
      g_value_take_boxed (value,
          gst_structure_new ("application/x-siprtpsink-stats",
              "call-id", G_TYPE_STRING, state.call_id.c_str (),
              "local-port", G_TYPE_UINT, (guint) state.local_port,
              "packets-sent", G_TYPE_UINT64, c.packets,
              "bytes-sent", G_TYPE_UINT64, c.bytes,
              "silence-packets", G_TYPE_UINT64, c.silence_packets,
              "audio-ms-sent", G_TYPE_UINT64, bytes_to_ms (c.audio_bytes),
              "audio-ms-discarded", G_TYPE_UINT64,
              bytes_to_ms (c.discarded_audio_bytes),
              "dtmf-packets", G_TYPE_UINT64, c.dtmf_packets,
              "packets-dropped", G_TYPE_UINT64, c.packets_dropped,
              "send-errors", G_TYPE_UINT64, c.send_errors,
              "last-seq", G_TYPE_INT, c.last_seq,
              "last-rtptime", G_TYPE_UINT, c.last_rtptime,
              "ssrc", G_TYPE_UINT, c.ssrc,
              "sending", G_TYPE_BOOLEAN, state.send,
              "destination", G_TYPE_STRING, destination.c_str (), nullptr));
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* The call's codec, or 16-bit audio the element encodes to it itself. */
static GstCaps *
codec_caps (G711 codec)
{
  GstCaps *caps = gst_caps_new_simple (voxbridge::g711_caps_name (codec),
      "rate", G_TYPE_INT, 8000, "channels", G_TYPE_INT, 1, nullptr);
  gst_caps_append (caps, gst_caps_new_simple ("audio/x-raw",
          "format", G_TYPE_STRING, GST_AUDIO_NE (S16), "rate", G_TYPE_INT, 8000,
          "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr));
  return caps;
}

/* 16-bit audio from upstream, encoded to the call's codec (@codec); the
 * queue and every count hold G.711, a byte per sample. */
static GstBuffer *
encode_raw (GstBuffer * raw, G711 codec)
{
  GstMapInfo in;
  if (!gst_buffer_map (raw, &in, GST_MAP_READ)) {
    gst_buffer_unref (raw);
    return gst_buffer_new ();
  }
  const gsize samples = in.size / 2;
  GstBuffer *out = gst_buffer_new_allocate (nullptr, samples, nullptr);
  GstMapInfo map;
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  voxbridge::g711_encode (codec, reinterpret_cast<const gint16 *> (in.data), samples, map.data);
  gst_buffer_unmap (out, &map);
  gst_buffer_unmap (raw, &in);
  gst_buffer_copy_into (out, raw, static_cast<GstBufferCopyFlags> (GST_BUFFER_COPY_FLAGS
          | GST_BUFFER_COPY_TIMESTAMPS), 0, -1);
  gst_buffer_unref (raw);
  return out;
}

/* ---- the upstream side ---- */

static void pace (GstSipRtpSink * self, bool early_ok, bool from_clock);

/* Whether upstream is a live source (then it must never be blocked). */
static bool
query_upstream_live (GstSipRtpSink * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = TRUE;
  if (gst_pad_peer_query (self->sinkpad, query))
    gst_query_parse_latency (query, &live, nullptr, nullptr);
  gst_query_unref (query);
  return live;
}

static GstFlowReturn
gst_sip_rtp_sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (parent);
  State & state = self->priv->state;
  bool ask_live;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    ask_live = !state.live_known;
  }
  if (ask_live) {
    const bool live = query_upstream_live (self);
    std::lock_guard<std::mutex> guard (self->priv->lock);
    state.upstream_live = live;
    state.live_known = true;
    GST_INFO_OBJECT (self, "upstream is %s", live ? "live" : "not live");
  }

  bool early_ok;
  {
    std::unique_lock<std::mutex> lock (self->priv->lock);
    const guint64 max_bytes = MAX_QUEUED_MS * 8;
    state.space.wait (lock, [&state, max_bytes] {
          return state.upstream_live || state.flushing || state.eos ||
              gst_adapter_available (state.queue.adapter) < max_bytes;
        });
    if (state.flushing) {
      gst_buffer_unref (buffer);
      return GST_FLOW_FLUSHING;
    }
    if (state.eos) {
      gst_buffer_unref (buffer);
      return GST_FLOW_EOS;
    }
    if (!state.caps_ok) {
      gst_buffer_unref (buffer);
      return GST_FLOW_NOT_NEGOTIATED;
    }
    if (state.raw_input)
      buffer = encode_raw (buffer, state.codec);
    /* Silence (GAP) belongs to no item and is not sent: the pacer has its
     * own, and sending it would delay the audio after it. */
    AudioQueue & queue = state.queue;
    const gsize size = gst_buffer_get_size (buffer);
    if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP) || size == 0) {
      if (queue.upstream_in_item) {
        queue.item_marks.push_back ({queue.enqueued, std::string ()});
        queue.upstream_in_item = false;
      }
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    const gsize available = gst_adapter_available (queue.adapter);
    if (available >= (gsize) MAX_QUEUED_LIVE_MS * 8) {
      if (!state.overflowing)
        GST_WARNING_OBJECT (self, "%u s of audio queued: upstream runs far ahead of real "
            "time, discarding what comes on top", MAX_QUEUED_LIVE_MS / 1000);
      state.overflowing = true;
      state.counters.discarded_audio_bytes += size;
      gst_buffer_unref (buffer);
      return GST_FLOW_OK;
    }
    state.overflowing = false;
    if (!queue.upstream_in_item && !queue.upstream_item.empty ()) {
      queue.item_marks.push_back ({queue.enqueued, queue.upstream_item});
      queue.upstream_in_item = true;
    }
    queue.enqueued += size;
    queue.audio_end = queue.enqueued;
    gst_adapter_push (queue.adapter, buffer);
    /* This audio completes a packet a talk-spurt is waiting for. */
    early_ok = state.pace == Pace::kSpurt && available < state.frame_bytes;
    /* A whole packet was already waiting for its time on the clock (audio
     * ahead of real time, a queue): this audio changes nothing due before
     * that wakeup, which serves it. */
    if (state.pace == Pace::kSpurt && available >= state.frame_bytes &&
        GST_CLOCK_TIME_IS_VALID (state.wake_target) && state.running)
      return GST_FLOW_OK;
  }
  /* Audio goes out from this push when it is due (no hand-over). */
  pace (self, early_ok, false);
  return GST_FLOW_OK;
}

/* Upstream begins a new stretch of audio (a response of the model). */
static void
mark_segment_start_locked (State & state)
{
  auto & starts = state.queue.segment_starts;
  if (starts.empty () || starts.back () != state.queue.enqueued)
    starts.push_back (state.queue.enqueued);
}

static bool
accept_caps_locked (GstSipRtpSink * self, GstCaps * caps)
{
  GstCaps *ours = codec_caps (self->priv->state.codec);
  bool ok = gst_caps_can_intersect (caps, ours);
  gst_caps_unref (ours);
  return ok;
}

static gboolean
gst_sip_rtp_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (parent);
  State & state = self->priv->state;
  gboolean ret = TRUE;
  GstMessage *message = nullptr;
  bool repace = false;          /* the pacer's next step changed */

  /* Nothing goes on downstream: the pacer owns the outgoing stream. */
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      std::lock_guard<std::mutex> guard (self->priv->lock);
      state.live_known = false;
      state.caps_ok = accept_caps_locked (self, caps);
      state.raw_input = gst_structure_has_name (gst_caps_get_structure (caps, 0), "audio/x-raw");
      if (!state.caps_ok)
        GST_WARNING_OBJECT (self, "refusing %" GST_PTR_FORMAT
            ", the call uses %s", caps,
            voxbridge::g711_caps_name (state.codec));
      ret = state.caps_ok;
      break;
    }
    case GST_EVENT_FLUSH_START:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      guint64 dropped = gst_adapter_available (state.queue.adapter);
      gst_adapter_clear (state.queue.adapter);
      state.queue.dequeued = state.queue.enqueued;
      state.queue.segment_starts.clear ();
      state.queue.item_marks.clear ();
      state.queue.upstream_item.clear ();
      state.queue.upstream_in_item = false;
      state.wire_item.clear ();
      /* The talk-spurt ends with its audio: silence on the grid. */
      state.pace = Pace::kGrid;
      state.grid_resync = true;
      state.flushing = true;
      state.space.notify_all ();
      message = gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("siprtp-flushed",
              "segment-sent-ms", G_TYPE_UINT64,
              bytes_to_ms (state.counters.segment_audio_bytes),
              "dropped-ms", G_TYPE_UINT64, bytes_to_ms (dropped),
              "call-id", G_TYPE_STRING, state.call_id.c_str (), nullptr));
      repace = true;
      break;
    }
    case GST_EVENT_FLUSH_STOP:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      state.flushing = false;
      state.eos = false;
      mark_segment_start_locked (state);
      break;
    }
    case GST_EVENT_SEGMENT:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      mark_segment_start_locked (state);
      break;
    }
    case GST_EVENT_STREAM_START:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      state.eos = false;
      state.live_known = false;
      break;
    }
    case GST_EVENT_EOS:{
      /* The pacer sends what is queued, then posts EOS. */
      {
        std::lock_guard<std::mutex> guard (self->priv->lock);
        state.eos = true;
        state.eos_seqnum = gst_event_get_seqnum (event);
        state.space.notify_all ();
      }
      repace = true;
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM:{
      const GstStructure *s = gst_event_get_structure (event);
      if (s && gst_structure_has_name (s, VOXBRIDGE_PLAYOUT_ITEM_EVENT)) {
        const gchar *item = gst_structure_get_string (s, "item-id");
        std::lock_guard<std::mutex> guard (self->priv->lock);
        AudioQueue & queue = state.queue;
        queue.upstream_item = item ? item : "";
        queue.item_marks.push_back ({queue.enqueued, queue.upstream_item});
        queue.upstream_in_item = !queue.upstream_item.empty ();
      }
      break;
    }
    default:
      /* GAP and the rest: the pacer fills time with silence anyway. */
      break;
  }
  gst_event_unref (event);
  if (message)
    gst_element_post_message (GST_ELEMENT (self), message);
  if (repace)
    pace (self, false, false);
  return ret;
}

static gboolean
gst_sip_rtp_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *caps;
      {
        std::lock_guard<std::mutex> guard (self->priv->lock);
        caps = self->priv->state.binding ?
            codec_caps (self->priv->state.codec) :
            gst_pad_get_pad_template_caps (pad);
      }
      voxbridge::answer_caps_query (query, caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps;
      gst_query_parse_accept_caps (query, &caps);
      std::lock_guard<std::mutex> guard (self->priv->lock);
      bool ok;
      if (self->priv->state.binding) {
        ok = accept_caps_locked (self, caps);
      } else {
        GstCaps *templ = gst_pad_get_pad_template_caps (pad);
        ok = gst_caps_can_intersect (caps, templ);
        gst_caps_unref (templ);
      }
      gst_query_set_accept_caps_result (query, ok);
      return TRUE;
    }
    case GST_QUERY_CUSTOM:{
      GstStructure *s = gst_query_writable_structure (query);
      if (!gst_structure_has_name (s, VOXBRIDGE_ITEM_SENT_QUERY))
        return gst_pad_query_default (pad, parent, query);
      const gchar *item = gst_structure_get_string (s, "item-id");
      guint64 sent = 0;
      {
        /* An item not seen here has not reached the wire: 0 is right. */
        std::lock_guard<std::mutex> guard (self->priv->lock);
        for (const auto & counted : self->priv->state.item_sent_bytes)
          if (item && counted.first == item)
            sent = counted.second;
      }
      gst_structure_set (s, "sent-ms", G_TYPE_UINT64, bytes_to_ms (sent),
          nullptr);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ---- the pacer ---- */

/* Picks up parameters the call's listener delivered. Called with the lock. */
static void
apply_params_locked (GstSipRtpSink * self)
{
  State & state = self->priv->state;
  if (!state.binding || state.binding->generation () == state.params_generation)
    return;
  state.params_generation = state.binding->generation ();
  RtpMediaParams params = state.binding->params ();

  G711 codec;
  GError *error = nullptr;
  if (!voxbridge::g711_from_params (params, &codec, &error)) {
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("The call switched to a codec siprtpsink cannot send"),
        ("%s", error->message));
    g_clear_error (&error);
  } else if (codec != state.codec) {
    /* The RTP caps and upstream's caps are fixed for the call. */
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("The call switched codec mid-call; still sending %s",
            voxbridge::g711_caps_name (state.codec)), (nullptr));
  } else {
    state.payload_type = params.payload_type;
  }
  state.dtmf_pt = params.dtmf_payload_type;
  state.send = params.send;
  state.params = params;
  GST_INFO_OBJECT (self, "sending %s to %s:%u", state.send ? "on" : "off",
      params.remote_address.c_str (), params.remote_port);
}

/* Sets where packets go to @address (IPv6: in scope @scope_id), port
 * dest_port: an IPv4 address on an IPv6 socket (bound to "::", dual-stack)
 * as its v4-mapped form. Called with the lock. */
static void
set_destination_locked (GstSipRtpSink * self, GInetAddress * address,
    guint32 scope_id = 0)
{
  State & state = self->priv->state;
  const GSocketFamily af = g_inet_address_get_family (address);
  const guint8 *bytes = g_inet_address_to_bytes (address);
  memset (&state.dest_addr, 0, sizeof (state.dest_addr));
  state.dest_len = 0;
  if (state.family == G_SOCKET_FAMILY_IPV4 && af == G_SOCKET_FAMILY_IPV4) {
    auto *sin = reinterpret_cast<sockaddr_in *> (&state.dest_addr);
    sin->sin_family = AF_INET;
    sin->sin_port = g_htons (state.dest_port);
    memcpy (&sin->sin_addr, bytes, 4);
    state.dest_len = sizeof (*sin);
  } else if (state.family == G_SOCKET_FAMILY_IPV6) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *> (&state.dest_addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = g_htons (state.dest_port);
    if (af == G_SOCKET_FAMILY_IPV6) {
      memcpy (&sin6->sin6_addr, bytes, 16);
      sin6->sin6_scope_id = scope_id;
    } else {
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy (&sin6->sin6_addr.s6_addr[12], bytes, 4);
    }
    state.dest_len = sizeof (*sin6);
  } else {
    GST_ERROR_OBJECT (self, "cannot send to %s port %u from an IPv4 socket "
        "(address=); sending nothing until the destination changes",
        state.dest_host.c_str (), state.dest_port);
    return;
  }
  GST_INFO_OBJECT (self, "sending to %s port %u", state.dest_host.c_str (),
      state.dest_port);
}

/* Works out again where RTP goes when that may have changed: the latched
 * source of the caller's RTP, else the SDP address (none: nowhere known
 * yet). Returns true when @name, the SDP host, is a name to resolve
 * (start_resolving()).
 * Called with the lock. */
static bool
refresh_destination_locked (GstSipRtpSink * self, std::string * name)
{
  State & state = self->priv->state;
  /* Read before the address: a latch after it is seen at the next step. */
  const guint64 latch_generation = state.binding->call ().latch_generation ();
  if (state.dest_known && latch_generation == state.dest_latch_generation &&
      state.params_generation == state.dest_params_generation)
    return false;
  state.dest_latch_generation = latch_generation;
  state.dest_params_generation = state.params_generation;
  GSocketAddress *latched = state.binding->call ().latched_address ();
  if (latched && !G_IS_INET_SOCKET_ADDRESS (latched))
    g_clear_object (&latched);
  if (latched) {
    /* The call keeps one object per latch: the same one, nothing new. */
    if (latched == state.dest_latched) {
      g_object_unref (latched);
      return false;
    }
    g_clear_object (&state.dest_latched);
    state.dest_latched = latched;
    state.dest_known = true;
    auto *inet = G_INET_SOCKET_ADDRESS (latched);
    gchar *host =
        g_inet_address_to_string (g_inet_socket_address_get_address (inet));
    state.dest_host = host;
    g_free (host);
    state.dest_port = g_inet_socket_address_get_port (inet);
    /* GLib gives a v4-mapped source as IPv4: mapped back here. */
    GST_INFO_OBJECT (self, "the caller's RTP comes from %s port %u",
        state.dest_host.c_str (), state.dest_port);
    GInetAddress *address = g_inet_socket_address_get_address (inet);
    set_destination_locked (self, address,
        g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ?
        g_inet_socket_address_get_scope_id (inet) : 0);
    return false;
  }
  if (state.dest_latched) {
    /* The latch is gone (the SDP moved the media): back to the SDP. */
    g_clear_object (&state.dest_latched);
    state.dest_known = false;
  }

  static const std::string nowhere;
  const RtpMediaParams & params = state.params;
  const bool known = !params.remote_address.empty () &&
      params.remote_port != 0 && params.remote_address != "0.0.0.0";
  const std::string & host = known ? params.remote_address : nowhere;
  const guint16 port = known ? params.remote_port : 0;
  if (state.dest_known && host == state.dest_host && port == state.dest_port)
    return false;
  state.dest_known = true;
  state.dest_host = host;
  state.dest_port = port;
  state.dest_len = 0;
  if (host.empty ()) {
    GST_INFO_OBJECT (self, "no destination");
    return false;
  }
  GInetAddress *address = g_inet_address_new_from_string (host.c_str ());
  if (address == nullptr) {
    *name = host;
    return true;
  }
  set_destination_locked (self, address);
  g_object_unref (address);
  return false;
}

/* The address of @addresses a socket of @family can send to, or NULL. */
static GInetAddress *
pick_address (GList * addresses, GSocketFamily family)
{
  GInetAddress *found = nullptr;
  for (GList *l = addresses; l != nullptr; l = l->next) {
    auto *address = G_INET_ADDRESS (l->data);
    const GSocketFamily af = g_inet_address_get_family (address);
    if (af == family)
      return address;
    if (found == nullptr && family == G_SOCKET_FAMILY_IPV6 &&
        af == G_SOCKET_FAMILY_IPV4)
      found = address;          /* v4-mapped, if nothing better comes */
  }
  return found;
}

/* Resolves @name, the SDP's host name, off the pacer: a lookup can take
 * seconds, and the pacer's thread serves every call of the process. Until
 * it answers nothing is sent (as with no destination); then the address is
 * used if the destination is still @name. The lookup runs on GLib's
 * resolver threads and answers on the I/O thread. */
static void
start_resolving (GstSipRtpSink * self, const std::string & name)
{
  struct Lookup {
    GstSipRtpSink *self;
    std::string name;
  };
  auto *lookup = new Lookup { GST_SIP_RTP_SINK (gst_object_ref (self)), name };
  voxbridge::IoThread::run ([lookup] {
        GResolver *resolver = g_resolver_get_default ();
        g_resolver_lookup_by_name_async (resolver, lookup->name.c_str (), nullptr,
            [] (GObject * source, GAsyncResult * result, gpointer data) {
              std::unique_ptr<Lookup> lookup (static_cast<Lookup *> (data));
              GstSipRtpSink *self = lookup->self;
              GError *error = nullptr;
              GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source),
                  result, &error);
              bool found = false;
              {
                std::lock_guard<std::mutex> guard (self->priv->lock);
                State & state = self->priv->state;
                GInetAddress *address = pick_address (addresses, state.family);
                found = address != nullptr;
                if (address && state.dest_known && state.dest_latched == nullptr &&
                    state.dest_host == lookup->name)
                  set_destination_locked (self, address);
              }
              g_resolver_free_addresses (addresses);
              if (!found)
                GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
                    ("Could not resolve the RTP destination '%s'; sending nothing until "
                        "it changes", lookup->name.c_str ()),
                    ("%s", error ? error->message : "no address of the socket's family"));
              g_clear_error (&error);
              gst_object_unref (self);
            }, lookup);
        g_object_unref (resolver);
      });
}

/* Takes the audio of one packet, up to a packet's worth, the rest silence:
 * in front of the audio when it starts a talk-spurt (the audio then runs on
 * without a gap into the next packet), after it otherwise. Returns the
 * number of upstream bytes in it. */
static guint
take_frame_locked (State & state, guint8 * out, bool pad_front)
{
  AudioQueue & queue = state.queue;
  const guint frame = state.frame_bytes;
  const guint take = static_cast<guint> (MIN (gst_adapter_available (queue.adapter),
          (gsize) frame));
  const guint8 silence = voxbridge::g711_silence_byte (state.codec);
  const guint offset = pad_front ? frame - take : 0;
  if (take > 0) {
    gst_adapter_copy (queue.adapter, out + offset, 0, take);
    gst_adapter_flush (queue.adapter, take);
  }
  if (pad_front)
    memset (out, silence, offset);
  else
    memset (out + take, silence, frame - take);
  return take;
}

/* Adds @bytes sent on the wire to the answer item @item_id. */
static void
credit_item_locked (State & state, const std::string & item_id, guint64 bytes)
{
  if (item_id.empty () || bytes == 0)
    return;
  for (auto & counted : state.item_sent_bytes) {
    if (counted.first == item_id) {
      counted.second += bytes;
      return;
    }
  }
  state.item_sent_bytes.emplace_back (item_id, bytes);
  if (state.item_sent_bytes.size () > REMEMBERED_ITEMS)
    state.item_sent_bytes.pop_front ();
}

/* Accounts @taken bytes leaving the queue, @sent whether they went out. */
static void
account_locked (State & state, guint taken, bool sent)
{
  AudioQueue & queue = state.queue;
  Counters & counters = state.counters;
  const guint64 end = queue.dequeued + taken;

  /* Split the bytes between the answer items they belong to. */
  guint64 pos = queue.dequeued;
  while (!queue.item_marks.empty () && queue.item_marks.front ().offset <= end) {
    const ItemMark & mark = queue.item_marks.front ();
    if (sent && mark.offset > pos)
      credit_item_locked (state, state.wire_item, mark.offset - pos);
    pos = MAX (pos, mark.offset);
    state.wire_item = mark.item_id;
    queue.item_marks.pop_front ();
  }
  if (sent)
    credit_item_locked (state, state.wire_item, end - pos);

  bool new_segment = false;
  guint64 in_segment = taken;
  while (!queue.segment_starts.empty () && queue.segment_starts.front () <= end) {
    in_segment = end - queue.segment_starts.front ();
    queue.segment_starts.pop_front ();
    new_segment = true;
  }
  queue.dequeued = end;
  if (new_segment)
    counters.segment_audio_bytes = 0;
  if (sent) {
    counters.audio_bytes += taken;
    counters.segment_audio_bytes += in_segment;
  } else {
    counters.discarded_audio_bytes += taken;
  }
}

/* RTP time of running time @t: the RTP clock runs with real time. */
static guint32
rtp_time_locked (const State & state, GstClockTime t)
{
  const GstClockTime since = t > state.ts_origin ? t - state.ts_origin : 0;
  return state.ts_base + static_cast<guint32> (gst_util_uint64_scale (since, 8000,
          GST_SECOND));
}

/* @ts, or the end of the last packet when @ts would overlap it. */
static guint32
after_last_packet_locked (const State & state, guint32 ts)
{
  if (!state.have_last_ts)
    return ts;
  const guint32 end = state.last_ts + state.frame_bytes;
  return static_cast<gint32> (ts - end) < 0 ? end : ts;
}

/* The first silence slot at or after running time @now: a multiple of
 * ptime on the clock, the same for every call with that ptime. */
static GstClockTime
next_grid_slot_locked (GstSipRtpSink * self, GstClockTime now)
{
  const GstClockTime ptime = self->priv->state.ptime_ms * GST_MSECOND;
  const GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
  const GstClockTime slot = gst_util_uint64_scale_ceil (base_time + now, 1, ptime) * ptime;
  return slot > base_time ? slot - base_time : 0;
}

/* Builds the packet with RTP time @ts (audio, silence or a DTMF event) into
 * @out and counts it as sent (send_packets() takes back what the kernel
 * refused). @spurt_start: the first packet of a talk-spurt (marker bit,
 * silence in front of less than a packet). */
static void
emit_packet_locked (GstSipRtpSink * self, guint32 ts, bool spurt_start,
    Outgoing & out)
{
  /* pace() applied the call's parameters and worked out the destination
   * before this service: the packets of one service share both. */
  State & state = self->priv->state;
  const bool deliver = state.send && state.dest_len > 0;

  /* The service sends one packet per step at most. */
  g_assert (out.count < MAX_PACKETS_PER_SERVICE);
  WirePacket & packet = out.packets[out.count];
  guint8 *payload = packet.data + RTP_HEADER_BYTES;
  const guint taken = take_frame_locked (state, payload, spurt_start);
  DtmfSender::Packet event;
  const bool is_event = deliver && state.dtmf_pt >= 0 &&
      state.dtmf.next_slot (ts, state.ptime_ms, &event);
  /* A digit replaces the audio of its slot. */
  account_locked (state, taken, deliver && !is_event);
  state.space.notify_all ();

  const bool first = !state.stream_started;
  state.stream_started = true;
  state.last_ts = ts;
  state.have_last_ts = true;
  if (!deliver) {
    state.discont = true;
    return;
  }
  guint size;
  guint8 payload_type;
  guint32 rtptime;
  bool marker;
  if (is_event) {
    size = sizeof (event.payload);
    payload_type = static_cast<guint8> (state.dtmf_pt);
    rtptime = event.timestamp;
    marker = event.marker;
    memcpy (payload, event.payload, size);
    state.counters.dtmf_packets++;
  } else {
    size = state.frame_bytes;
    payload_type = state.payload_type;
    rtptime = ts;
    /* The marker bit starts a talk-spurt (RFC 3551): audio after silence,
     * the first packet, or the first after packets that were not sent. */
    marker = spurt_start || first || state.discont;
    if (taken == 0)
      state.counters.silence_packets++;
    state.discont = false;
  }
  const guint16 seq = state.next_seq++;
  /* RFC 3550 5.1: version 2, no padding, extension or CSRCs. */
  packet.data[0] = 0x80;
  packet.data[1] = (marker ? 0x80 : 0x00) | (payload_type & 0x7f);
  GST_WRITE_UINT16_BE (packet.data + 2, seq);
  GST_WRITE_UINT32_BE (packet.data + 4, rtptime);
  GST_WRITE_UINT32_BE (packet.data + 8, state.ssrc);
  packet.size = RTP_HEADER_BYTES + size;
  packet.seq = seq;
  packet.rtptime = rtptime;
  out.count++;

  Counters & counters = state.counters;
  counters.packets++;
  counters.bytes += packet.size;
  counters.last_seq = seq;
  counters.last_rtptime = rtptime;
  counters.ssrc = state.ssrc;
}

/* Sends what is due at running time @now and returns when the pacer must
 * look again (NONE: never, the stream is over). @early_ok: audio that just
 * completed a packet the talk-spurt was waiting for may leave up to a
 * quarter ptime before the packet is due. */
static GstClockTime
service_locked (GstSipRtpSink * self, GstClockTime now, bool early_ok, Outgoing & out)
{
  State & state = self->priv->state;
  const GstClockTime ptime = state.ptime_ms * GST_MSECOND;
  const guint frame = state.frame_bytes;
  for (guint sent = 0; sent < MAX_PACKETS_PER_SERVICE; sent++) {
    const gsize available = gst_adapter_available (state.queue.adapter);
    if (state.eos && available == 0 && state.dtmf.pending_digits () == 0)
      return GST_CLOCK_TIME_NONE;

    if (state.pace == Pace::kGrid) {
      if (available > 0) {
        /* Audio in silence: a talk-spurt starts now, anchored on real time
         * instead of the silence grid. */
        state.pace = Pace::kSpurt;
        state.spurt_start = now;
        state.spurt_shift = 0;
        state.spurt_ts = after_last_packet_locked (state, rtp_time_locked (state, now));
        emit_packet_locked (self, state.spurt_ts, true, out);
        state.spurt_packets = 1;
        state.last_sent = now;
        continue;
      }
      if (state.grid_resync || now > state.next_tick + MAX_LATENESS) {
        if (!state.grid_resync) {
          GST_WARNING_OBJECT (self, "pacer %" G_GUINT64_FORMAT " ms late, skipping ahead",
              (now - state.next_tick) / GST_MSECOND);
          state.discont = true;
        }
        state.grid_resync = false;
        state.next_tick = next_grid_slot_locked (self, now);
      }
      if (now < state.next_tick)
        return state.next_tick;
      emit_packet_locked (self,
          after_last_packet_locked (state, rtp_time_locked (state, state.next_tick)), false,
          out);
      state.next_tick += ptime;
      continue;
    }

    /* Talk-spurt: packet n is due at spurt_start + n ptime. */
    const GstClockTime due = state.spurt_start + state.spurt_packets * ptime;
    if (early_ok && now >= due + ptime) {
      /* It ran dry a whole ptime ago (the clock has not served that yet):
       * this audio starts a new talk-spurt. */
      state.pace = Pace::kGrid;
      state.grid_resync = true;
      early_ok = false;
      continue;
    }
    if (available >= frame || (available > 0 && state.eos)) {
      const GstClockTime early = early_ok ? ptime / 4 : 0;
      if (early_ok && now + early < due && state.spurt_shift < ptime &&
          now >= state.last_sent + ptime / 2) {
        /* Audio arriving at the pace of real time, but earlier than the
         * spurt's first packet suggested (that one came late): the schedule
         * moves earlier, by at most one ptime per spurt. Not for a burst
         * (it comes right after the packet before). */
        const GstClockTime shift = MIN (due - now, ptime - state.spurt_shift);
        if (state.spurt_start >= shift) {
          state.spurt_start -= shift;
          state.spurt_shift += shift;
          continue;
        }
      }
      if (now + early < due)
        return due;             /* ahead of real time: wait for the clock */
      if (now > due + MAX_LATENESS) {
        GST_WARNING_OBJECT (self, "pacer %" G_GUINT64_FORMAT " ms late, restarting the "
            "talk-spurt", (now - due) / GST_MSECOND);
        state.spurt_start = now;
        state.spurt_packets = 0;
        state.spurt_ts = after_last_packet_locked (state, rtp_time_locked (state, now));
        state.discont = true;
        continue;
      }
      emit_packet_locked (self, state.spurt_ts + state.spurt_packets * frame, false, out);
      state.spurt_packets++;
      state.last_sent = now;
      continue;
    }
    /* The audio of packet n is missing (in part): it leaves as soon as it
     * completes, for a whole ptime; then what there is goes out padded and
     * the stream returns to silence on the grid. */
    if (now < due + ptime && !state.eos)
      return due + ptime;
    if (available > 0) {
      emit_packet_locked (self, state.spurt_ts + state.spurt_packets * frame, false, out);
      state.spurt_packets++;
    }
    state.pace = Pace::kGrid;
    state.grid_resync = true;
  }
  return now;                   /* more is due: come back at once */
}

/* Asks to be served at running time @target on the element's clock (NONE:
 * not at all), replacing the deadline asked before. Called with the lock. */
static void
schedule_locked (GstSipRtpSink * self, GstClockTime target)
{
  State & state = self->priv->state;
  if (!state.running || state.finished || state.stopping)
    target = GST_CLOCK_TIME_NONE;
  if (state.wake_target == target || !state.scheduler)
    return;
  state.wake_target = target;
  const GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
  state.scheduler->set_deadline (state.scheduler_client,
      GST_CLOCK_TIME_IS_VALID (target) ? base_time + target : GST_CLOCK_TIME_NONE);
}

/* Serves a pacer's deadline (the clock's thread). */
static void
on_pacer_deadline (gpointer data)
{
  pace (GST_SIP_RTP_SINK (data), false, true);
}

/* Registers the pacer with the scheduler of the element's clock (a new
 * clock since the last run: with that one's). Without the lock. */
static void
use_clock_scheduler (GstSipRtpSink * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock == nullptr)
    clock = gst_system_clock_obtain ();
  State & state = self->priv->state;
  std::shared_ptr<ClockScheduler> old;
  ClockScheduler::Client *old_client = nullptr;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (state.scheduler && state.scheduler->clock () == clock) {
      gst_object_unref (clock);
      return;
    }
    old.swap (state.scheduler);
    old_client = state.scheduler_client;
  }
  if (old)
    old->remove (old_client);
  std::shared_ptr<ClockScheduler> scheduler = ClockScheduler::for_clock (clock);
  gst_object_unref (clock);
  ClockScheduler::Client *client = scheduler->add (on_pacer_deadline, self);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  state.scheduler = std::move (scheduler);
  state.scheduler_client = client;
  state.wake_target = GST_CLOCK_TIME_NONE;
}

/* Leaves the clock's scheduler: once this returns, the clock's thread is
 * not in the pacer and never calls it again. Without the lock. */
static void
leave_clock_scheduler (GstSipRtpSink * self)
{
  std::shared_ptr<ClockScheduler> scheduler;
  ClockScheduler::Client *client;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    scheduler.swap (self->priv->state.scheduler);
    client = self->priv->state.scheduler_client;
    self->priv->state.scheduler_client = nullptr;
    self->priv->state.wake_target = GST_CLOCK_TIME_NONE;
  }
  if (scheduler)
    scheduler->remove (client);
}

/* Sends the packets the pacer built to @dest on socket @fd (non-blocking:
 * a full socket buffer drops the packet, never waits), then takes back
 * from the counters what did not go out. @last_seq, @last_rtptime: the
 * counters' values before these packets. Without the lock (under
 * tick_lock). */
static void
send_packets (GstSipRtpSink * self, const Outgoing & out, int fd,
    const sockaddr_storage & dest, socklen_t dest_len, gint last_seq,
    guint32 last_rtptime)
{
  int errors[MAX_PACKETS_PER_SERVICE];
  bool failed = false;
  for (guint i = 0; i < out.count; i++) {
    const WirePacket & packet = out.packets[i];
    ssize_t n;
    do {
      n = sendto (fd, packet.data, packet.size, MSG_DONTWAIT,
          reinterpret_cast<const sockaddr *> (&dest), dest_len);
    } while (n < 0 && errno == EINTR);
    errors[i] = n < 0 ? errno : 0;
    failed = failed || n < 0;
  }
  if (!failed)
    return;

  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  Counters & counters = state.counters;
  for (guint i = 0; i < out.count; i++) {
    const WirePacket & packet = out.packets[i];
    if (errors[i] == 0) {
      last_seq = packet.seq;
      last_rtptime = packet.rtptime;
      continue;
    }
    counters.packets--;
    counters.bytes -= packet.size;
    const int error = errors[i];
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      counters.packets_dropped++;
      continue;
    }
    /* The caller gone or unreachable: the SIP side ends the call, RTP
     * keeps its pace until then. */
    counters.send_errors++;
    auto & warned = state.warned_errnos;
    if (std::find (warned.begin (), warned.end (), error) == warned.end ()) {
      warned.push_back (error);
      GST_WARNING_OBJECT (self, "sending RTP to %s port %u failed: %s (more "
          "of these are counted in send-errors, not logged)",
          state.dest_host.c_str (), state.dest_port, g_strerror (error));
    }
  }
  counters.last_seq = last_seq;
  counters.last_rtptime = last_rtptime;
}

/* One step of the pacer, from upstream's push or the clock (@from_clock: a
 * deadline it asked for was reached): sends what is due, then asks to be
 * served when there is more to do. */
static void
pace (GstSipRtpSink * self, bool early_ok, bool from_clock)
{
  /* Packets leave in sequence order: one step at a time. */
  std::lock_guard<std::mutex> serving (self->priv->tick_lock);
  State & state = self->priv->state;
  Outgoing & out = self->priv->out;
  out.count = 0;
  bool finish = false;
  guint32 eos_seqnum;
  int fd;
  sockaddr_storage dest;
  socklen_t dest_len;
  gint last_seq;
  guint32 last_rtptime;
  {
    std::unique_lock<std::mutex> lock (self->priv->lock);
    /* The scheduler consumed the deadline it served. A deadline replaced
     * or withdrawn just as it was reached makes a step with nothing due. */
    if (from_clock)
      state.wake_target = GST_CLOCK_TIME_NONE;
    if (!state.running || state.finished || state.stopping || !state.scheduler)
      return;

    apply_params_locked (self);
    std::string name;
    if (refresh_destination_locked (self, &name))
      start_resolving (self, name);      /* a host name (rare in SDP) */

    /* Running: the pacer uses the scheduler of the element's clock (no
     * object lock and reference per step to ask the element for it). */
    const GstClockTime abs = gst_clock_get_time (state.scheduler->clock ());
    const GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
    const GstClockTime now = abs > base_time ? abs - base_time : 0;

    last_seq = state.counters.last_seq;
    last_rtptime = state.counters.last_rtptime;
    const GstClockTime wake = service_locked (self, now, early_ok, out);
    finish = state.eos && gst_adapter_available (state.queue.adapter) == 0 &&
        state.dtmf.pending_digits () == 0;
    if (finish)
      state.finished = true;
    schedule_locked (self, finish ? GST_CLOCK_TIME_NONE : wake);
    fd = state.fd;
    dest = state.dest_addr;
    dest_len = state.dest_len;
    eos_seqnum = state.eos_seqnum;
  }

  if (out.count > 0)
    send_packets (self, out, fd, dest, dest_len, last_seq, last_rtptime);
  if (finish) {
    GST_INFO_OBJECT (self, "upstream ended and everything is sent");
    GstMessage *eos = gst_message_new_eos (GST_OBJECT (self));
    if (eos_seqnum != GST_SEQNUM_INVALID)
      gst_message_set_seqnum (eos, eos_seqnum);
    gst_element_post_message (GST_ELEMENT (self), eos);
  }
}

/* ---- the element ---- */

/* Events sent to the element by the application or the pipeline (seek,
 * latency, QoS): nothing is downstream, the pacer keeps real time whatever
 * upstream's latency, and upstream is not seekable through a call; as
 * before, when udpsink got them and they ended at the pacer. */
static gboolean
gst_sip_rtp_sink_send_event (GstElement * element, GstEvent * event)
{
  GST_DEBUG_OBJECT (element, "ignoring %" GST_PTR_FORMAT, event);
  gst_event_unref (event);
  return TRUE;
}

static gboolean
gst_sip_rtp_sink_element_query (GstElement * element, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* Not synchronised by the pipeline (the pacer has its own schedule):
     * like a sink with sync=false, not live and adding no latency, so the
     * pipeline's latency is that of its other sinks. */
    gst_query_set_latency (query, FALSE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->query (element, query);
}

/* ---- DTMF ---- */

static gboolean
gst_sip_rtp_sink_send_dtmf (GstSipRtpSink * self, const gchar * digits,
    guint duration_ms)
{
  std::vector<guint8> events;
  char bad = '\0';
  if (!DtmfSender::parse_digits (digits, &events, &bad)) {
    GST_WARNING_OBJECT (self, "send-dtmf: '%s' is not a string of DTMF "
        "digits (0-9 * # A-D)", digits ? digits : "(null)");
    return FALSE;
  }
  if (duration_ms < DtmfSender::kMinDurationMs ||
      duration_ms > DtmfSender::kMaxDurationMs) {
    GST_WARNING_OBJECT (self, "send-dtmf: duration %u ms is outside %u-%u",
        duration_ms, DtmfSender::kMinDurationMs, DtmfSender::kMaxDurationMs);
    return FALSE;
  }
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  if (!state.binding) {
    GST_WARNING_OBJECT (self, "send-dtmf: not bound to a call yet");
    return FALSE;
  }
  if (state.dtmf_pt < 0) {
    GST_WARNING_OBJECT (self, "send-dtmf: call %s negotiated no "
        "telephone-event payload type, cannot send '%s'",
        state.call_id.c_str (), digits);
    return FALSE;
  }
  state.dtmf.queue (events, duration_ms);
  GST_INFO_OBJECT (self, "sending DTMF '%s', %u ms each, payload type %d",
      digits, duration_ms, state.dtmf_pt);
  return TRUE;
}

/* ---- states ---- */

static bool
bind_call (GstSipRtpSink * self)
{
  Settings settings;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    settings = self->priv->settings;
  }

  GError *error = nullptr;
  std::unique_ptr<CallBinding> binding;
  if (!settings.call_id.empty ()) {
    binding = CallBinding::bind_call (settings.call_id, &error);
  } else {
    ExplicitRtpSettings wanted;
    wanted.address = settings.address;
    wanted.port = settings.port;
    wanted.remote = settings.remote;
    if (settings.payload_set)
      wanted.payload_type = settings.payload;
    wanted.encoding = settings.encoding;
    if (settings.ptime_set)
      wanted.ptime_ms = settings.ptime_ms;
    if (settings.dtmf_payload >= 0)
      wanted.dtmf_payload_type = settings.dtmf_payload;
    binding = CallBinding::bind_explicit (wanted, &error);
  }
  if (!binding) {
    if (!settings.call_id.empty ())
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("No call '%s' to send RTP to", settings.call_id.c_str ()),
          ("%s", error->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not open UDP port %u on %s", settings.port,
              settings.address.c_str ()), ("%s", error->message));
    g_clear_error (&error);
    return false;
  }

  RtpMediaParams params = binding->params ();
  G711 codec;
  if (!voxbridge::g711_from_params (params, &codec, &error)) {
    GST_ELEMENT_ERROR (self, STREAM, CODEC_NOT_FOUND,
        ("Call '%s' does not use G.711", binding->call_id ().c_str ()),
        ("%s", error->message));
    g_clear_error (&error);
    return false;
  }
  guint ptime_ms = CLAMP (params.ptime_ms, 10u, 200u);

  GSocket *socket = binding->call ().socket ();

  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  /* The call owns the socket for as long as the binding lives. */
  state.fd = g_socket_get_fd (socket);
  state.family = g_socket_get_family (socket);
  state.call_id = binding->call_id ();
  state.local_port = binding->call ().local_port ();
  state.codec = codec;
  state.ptime_ms = ptime_ms;
  state.frame_bytes = ptime_ms * 8;
  /* No pacer runs before PLAYING: nothing else touches it now. */
  self->priv->out.size_for (state.frame_bytes);
  state.payload_type = params.payload_type;
  state.dtmf_pt = params.dtmf_payload_type;
  state.params = params;
  state.send = params.send;
  state.params_generation = binding->generation ();
  state.binding = std::move (binding);
  GST_INFO_OBJECT (self, "bound to call %s, sending %s from port %u every "
      "%u ms", state.call_id.c_str (), voxbridge::g711_caps_name (codec),
      state.local_port, ptime_ms);
  return true;
}

static void
unbind_call (GstSipRtpSink * self)
{
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  g_clear_object (&state.dest_latched);
  state.dest_known = false;
  state.dest_len = 0;
  state.fd = -1;
  state.binding.reset ();
}

static void
reset_stream_locked (State & state)
{
  gst_adapter_clear (state.queue.adapter);
  state.queue = AudioQueue { state.queue.adapter };
  state.flushing = false;
  state.eos = false;
  state.caps_ok = false;
  state.raw_input = false;
  state.stream_started = false;
  state.finished = false;
  state.stopping = false;
  state.discont = false;
  state.live_known = false;
  state.overflowing = false;
  state.pace = Pace::kGrid;
  state.grid_resync = true;
  state.next_tick = 0;
  state.spurt_packets = 0;
  state.have_last_ts = false;
  state.eos_seqnum = GST_SEQNUM_INVALID;
  state.dest_host.clear ();
  state.dest_port = 0;
  g_clear_object (&state.dest_latched);
  state.dest_known = false;
  state.dest_len = 0;
  state.warned_errnos.clear ();
  state.counters = Counters ();
  /* Random starting points (RFC 3550 5.1) for a new stream. */
  state.ssrc = g_random_int ();
  state.next_seq = static_cast<guint16> (g_random_int_range (0, 65536));
  state.ts_base = g_random_int ();
  state.dtmf.clear ();
  state.wire_item.clear ();
  state.item_sent_bytes.clear ();
}

static void
start_pacer (GstSipRtpSink * self)
{
  State & state = self->priv->state;
  use_clock_scheduler (self);
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (!state.stream_started) {
      /* The RTP clock starts here. */
      GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
      const GstClockTime abs = clock ? gst_clock_get_time (clock) : 0;
      const GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
      state.ts_origin = abs > base_time ? abs - base_time : 0;
      if (clock)
        gst_object_unref (clock);
    } else {
      /* Resuming from PAUSED: mark the first packet. */
      state.discont = true;
    }
    /* Silence goes out on multiples of ptime of the clock: the pacers of
     * all calls with that ptime share their slots. */
    state.grid_resync = true;
    state.running = true;
  }
  /* Sends audio that came before PLAYING, then waits for the next step. */
  pace (self, false, false);
}

/* PLAYING→PAUSED: the pacer idles. PAUSED→READY (@stop): it ends. */
static void
stop_pacer (GstSipRtpSink * self, bool stop)
{
  State & state = self->priv->state;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    state.running = false;
    if (stop) {
      state.stopping = true;
      state.flushing = true;
      state.space.notify_all ();
    }
    schedule_locked (self, GST_CLOCK_TIME_NONE);
  }
  /* A step being served right now finishes first. */
  { std::lock_guard<std::mutex> served (self->priv->tick_lock); }
  if (stop)
    leave_clock_scheduler (self);
}

static GstStateChangeReturn
gst_sip_rtp_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstSipRtpSink *self = GST_SIP_RTP_SINK (element);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!bind_call (self)) {
        unbind_call (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      reset_stream_locked (self->priv->state);
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      stop_pacer (self, false);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_pacer (self, true);
      break;
    default:
      break;
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      unbind_call (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      start_pacer (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      unbind_call (self);
      break;
    default:
      break;
  }
  return ret;
}
