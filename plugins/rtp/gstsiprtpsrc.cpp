/**
 * SECTION:element-siprtpsrc
 * @title: siprtpsrc
 * @see_also: siprtpsink, rtpjitterbuffer, rtppcmudepay, rtpdtmfdepay
 *
 * Receives the caller's RTP of one SIP call and outputs its G.711 audio as
 * `audio/x-mulaw` or `audio/x-alaw` (8 kHz mono), per the negotiated payload
 * type, timestamped in running time; a live source. When downstream takes
 * neither (audioresample), the element decodes to 16-bit `audio/x-raw`
 * itself, so a 24 kHz leg needs no decoder element per call.
 *
 * The element has no thread of its own. The call's socket is read by the
 * process's one RTP receive thread (rtp_receiver.h), which parses each
 * packet (GstRTPBuffer), puts it in order in a small reorder buffer
 * (rtp_reorder.h) and pushes the payload downstream at once — a packet that
 * arrives in sequence is never held. A packet after a gap waits at most
 * `latency` ms for the missing ones; then they count as lost and downstream
 * gets a GAP event for their time and DISCONT on the next buffer.
 * Duplicates and packets older than what went out are dropped and counted;
 * a new SSRC restarts the stream. The reorder buffer's deadlines are the
 * receive thread's epoll timeout, so 200 calls cost no thread each and one
 * wakeup per burst of packets.
 *
 * Because downstream runs on that shared thread, it must never block: the
 * shipped graphs (siprtpsrc ! realtimesink, or a decoder, audioconvert and
 * audioresample before it) do not. A sink that synchronises to the clock
 * (autoaudiosink, alsasink, filesink with sync=true ...) needs a `queue`
 * right after siprtpsrc, or it would stall every call of the process while
 * it waits. Likewise, do not leave a pipeline with siprtpsrc in PAUSED: a
 * sink waiting for preroll blocks the shared thread.
 *
 * Bound to a call of the in-process sipd with `call-id`, or, without sipd,
 * to the explicit `port` / `address` / `payload` / `remote` settings; a
 * siprtpsink with the same `port` in the same process shares the socket
 * (symmetric RTP). The source address of the caller's RTP is latched into
 * the call so that siprtpsink answers there (NAT). While the call is on hold
 * (not receiving) packets are dropped and counted.
 *
 * RFC 4733 telephone events are not audio: the start of each event is
 * posted as an element message `dtmf-event` (as rtpdtmfdepay does: `number`,
 * `volume`, `type`, `method`), and every completed event once as
 * `siprtp-dtmf` with the fields `digit` (string: "0"-"9", "*", "#",
 * "A"-"D"), `duration-ms` (uint) and `call-id` (string).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 siprtpsrc port=40000 ! mulawdec ! audioconvert ! wavenc ! filesink location=caller.wav
 * ]| Receives PCMU on UDP port 40000 and records it. To listen (a queue
 * before the synchronising audio sink):
 * |[
 * gst-launch-1.0 siprtpsrc port=40000 ! queue ! mulawdec ! audioconvert ! audioresample ! autoaudiosink
 * ]| Something to send:
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=40000
 * ]|
 */
#include "gstsiprtpsrc.h"

#include <gst/audio/audio.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "g711_codec.h"
#include "rtp_receiver.h"
#include "rtp_reorder.h"
#include "siprtp_binding.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_rtp_src_debug);
#define GST_CAT_DEFAULT gst_sip_rtp_src_debug

#define DEFAULT_CALL_ID nullptr
#define DEFAULT_PORT 0
#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_REMOTE nullptr
#define DEFAULT_PAYLOAD 0
#define DEFAULT_ENCODING nullptr
#define DEFAULT_DTMF_PAYLOAD 101
#define DEFAULT_LATENCY 60

/* RTP time and arrival time disagreeing by more than this is a jump in the
 * sender's timestamps (or a long stall): the timeline starts again. */
#define TIMELINE_RESYNC (1 * GST_SECOND)
/* The timeline follows the least delayed packet of each such window, so that
 * a sender's clock running faster or slower than ours is followed. */
#define TIMELINE_WINDOW (2 * GST_SECOND)

using voxbridge::CallBinding;
using voxbridge::ExplicitRtpSettings;
using voxbridge::G711;
using voxbridge::RtpMediaParams;
using voxbridge::RtpReceiver;
using voxbridge::RtpReorderBuffer;

namespace {

struct Settings {
  std::string call_id;
  guint port = DEFAULT_PORT;
  std::string address = DEFAULT_ADDRESS;
  std::string remote;
  guint payload = DEFAULT_PAYLOAD;
  bool payload_set = false;
  std::string encoding;
  gint dtmf_payload = DEFAULT_DTMF_PAYLOAD;
  guint latency_ms = DEFAULT_LATENCY;
};

/* What each RTP payload type means to this element. */
enum class PayloadKind : guint8 { NONE, PCMU, PCMA, DTMF };
using PayloadKinds = std::array<PayloadKind, 128>;

/* One RFC 4733 event being received: all its packets carry the RTP
 * timestamp of its start; the end packet is sent three times. */
struct DtmfEvent {
  bool active = false;
  bool ended = false;
  guint32 rtptime = 0;
  guint8 event = 0;
  guint16 duration = 0;
};

struct Counters {
  guint64 received = 0;
  guint64 bytes = 0;
  guint64 invalid = 0;
  guint64 wrong_payload_type = 0;
  guint64 not_receiving = 0;
  guint64 lost = 0;
  guint64 late = 0;
  guint64 duplicates = 0;
  guint64 pushed = 0;
  guint64 dtmf_events = 0;
};

/* Maps RTP timestamps to running time: the arrival of the least delayed
 * packet lately seen plus the RTP time since, so that audio keeps the
 * sender's spacing whatever the network jitter (what rtpjitterbuffer's
 * skew estimation does, simply). */
class Timeline {
 public:
  void reset () {
    *this = Timeline ();
  }

  /* The PTS of an audio packet of RTP time @rtptime that arrived at
   * @arrival; @resynced says the timeline (re)started with it. */
  GstClockTime pts (guint32 rtptime, guint clock_rate, GstClockTime arrival,
      bool *resynced) {
    const guint64 extended = gst_rtp_buffer_ext_timestamp (&ext_state_,
        rtptime);
    *resynced = false;
    gint64 rtp_ns = 0;
    if (started_) {
      const gint64 ticks = static_cast<gint64> (extended - base_);
      const gint64 magnitude = static_cast<gint64> (gst_util_uint64_scale_int (
              static_cast<guint64> (ticks < 0 ? -ticks : ticks), GST_SECOND,
              clock_rate));
      rtp_ns = ticks < 0 ? -magnitude : magnitude;
    }
    const gint64 delay = static_cast<gint64> (arrival) - rtp_ns;
    if (!started_ || ABS (delay - offset_) > (gint64) TIMELINE_RESYNC) {
      started_ = true;
      base_ = extended;
      rtp_ns = 0;
      offset_ = window_min_ = static_cast<gint64> (arrival);
      window_start_ = arrival;
      *resynced = true;
    } else {
      window_min_ = MIN (window_min_, delay);
      if (arrival >= window_start_ + TIMELINE_WINDOW) {
        offset_ = window_min_;
        window_min_ = delay;
        window_start_ = arrival;
      }
    }
    const gint64 pts = rtp_ns + offset_;
    return pts > 0 ? static_cast<GstClockTime> (pts) : 0;
  }

 private:
  guint64 ext_state_ = G_MAXUINT64;      /* gst_rtp_buffer_ext_timestamp's */
  bool started_ = false;
  guint64 base_ = 0;                     /* extended RTP time at offset_ */
  gint64 offset_ = 0;                    /* running time of base_ */
  gint64 window_min_ = 0;
  GstClockTime window_start_ = 0;
};

/* The receive thread's: from PAUSED→PLAYING to PAUSED→READY, touched by
 * nothing else. */
struct Receiving {
  RtpReorderBuffer reorder;
  Timeline timeline;
  std::vector<RtpReorderBuffer::Item> released;   /* reused for each turn */
  PayloadKinds kinds {};
  guint clock_rate = 8000;
  guint64 kinds_version = G_MAXUINT64;  /* of State's copy, last taken */
  bool discont = true;
  /* Set when packets were dropped (hold, PAUSED): the stream starts over. */
  bool interrupted = false;
  G711 caps_codec = G711::PCMU;
  bool caps_sent = false;
  bool decode = false;          /* downstream takes audio/x-raw only */
  GstClockTime next_pts = GST_CLOCK_TIME_NONE;    /* end of the last audio */
  guint64 lost_pending = 0;     /* declared lost since the last audio */
  bool flow_error_posted = false;
  /* The source of the last packet, so latching looks only at changes. */
  struct sockaddr_storage last_from = {};
  socklen_t last_from_len = 0;
};

struct State {
  std::unique_ptr<CallBinding> binding;
  std::string call_id;
  guint16 local_port = 0;
  /* The parameters as the receive thread applies them. */
  guint64 params_generation = 0;
  gint audio_pt = -1;
  gint dtmf_pt = -1;
  bool receive = true;
  guint clock_rate = 8000;
  PayloadKinds kinds {};
  guint64 kinds_version = 0;    /* bumped whenever kinds or clock_rate change */
  DtmfEvent dtmf;
  Counters counters;
  guint64 receiver_id = 0;
};

}  // namespace

struct GstSipRtpSrcPrivate {
  std::mutex lock;
  Settings settings;
  State state;
  Receiving receiving;          /* the receive thread's, see start_receiving */
  /* PLAYING: packets go downstream; otherwise the receive thread drops
   * them (it is not waited for on the way to PAUSED, see change_state). */
  std::atomic<bool> delivering { false };
};

struct _GstSipRtpSrc {
  GstElement parent;

  GstPad *srcpad;

  GstSipRtpSrcPrivate *priv;
};

enum {
  PROP_0,
  PROP_CALL_ID,
  PROP_PORT,
  PROP_ADDRESS,
  PROP_REMOTE,
  PROP_PAYLOAD,
  PROP_ENCODING,
  PROP_DTMF_PAYLOAD,
  PROP_LATENCY,
  PROP_LOCAL_PORT,
  PROP_STATS,
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1; "
        "audio/x-alaw, rate = (int) 8000, channels = (int) 1; "
        "audio/x-raw, format = (string) " GST_AUDIO_NE (S16) ", rate = (int) 8000, "
        "channels = (int) 1, layout = (string) interleaved"));

#define gst_sip_rtp_src_parent_class parent_class
G_DEFINE_TYPE (GstSipRtpSrc, gst_sip_rtp_src, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (siprtpsrc, "siprtpsrc", GST_RANK_NONE,
    GST_TYPE_SIP_RTP_SRC);

static void gst_sip_rtp_src_finalize (GObject * object);
static void gst_sip_rtp_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_sip_rtp_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_sip_rtp_src_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_sip_rtp_src_send_event (GstElement * element,
    GstEvent * event);
static gboolean gst_sip_rtp_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

static void
gst_sip_rtp_src_class_init (GstSipRtpSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_sip_rtp_src_finalize;
  gobject_class->set_property = gst_sip_rtp_src_set_property;
  gobject_class->get_property = gst_sip_rtp_src_get_property;

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
          "Local UDP port without call-id (0 = any free port; shared with a "
          "siprtpsink of the same port)", 0, 65535, DEFAULT_PORT, flags));
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Local address to bind without call-id", DEFAULT_ADDRESS, flags));
  g_object_class_install_property (gobject_class, PROP_REMOTE,
      g_param_spec_string ("remote", "Remote",
          "The caller's RTP address as host:port without call-id (until "
          "latched)", DEFAULT_REMOTE, flags));
  g_object_class_install_property (gobject_class, PROP_PAYLOAD,
      g_param_spec_uint ("payload", "Payload type",
          "RTP payload type of the audio without call-id (0 = PCMU, "
          "8 = PCMA, 96-127 dynamic with encoding)", 0, 127, DEFAULT_PAYLOAD,
          flags));
  g_object_class_install_property (gobject_class, PROP_ENCODING,
      g_param_spec_string ("encoding", "Encoding",
          "Encoding name (PCMU or PCMA) for a dynamic payload type",
          DEFAULT_ENCODING, flags));
  g_object_class_install_property (gobject_class, PROP_DTMF_PAYLOAD,
      g_param_spec_int ("dtmf-payload", "DTMF payload type",
          "telephone-event payload type without call-id (-1 = none)", -1,
          127, DEFAULT_DTMF_PAYLOAD, flags));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "How long a packet after a gap waits for the missing ones, in "
          "milliseconds (packets in sequence never wait)", 0, 10000,
          DEFAULT_LATENCY, flags));
  g_object_class_install_property (gobject_class, PROP_LOCAL_PORT,
      g_param_spec_uint ("local-port", "Local port",
          "The UDP port media is received on (from READY on)", 0, 65535, 0,
          ro_flags));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Packets received, invalid, of a wrong payload type, lost, late, "
          "duplicated; DTMF events; the latched source address",
          GST_TYPE_STRUCTURE, ro_flags));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "SIP call RTP source",
      "Source/Network", "Receives the G.711 audio and DTMF of a SIP call",
      "voxbridge");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_sip_rtp_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_sip_rtp_src_send_event);

  GST_DEBUG_CATEGORY_INIT (gst_sip_rtp_src_debug, "voxbridge-siprtpsrc", 0,
      "SIP call RTP source");
}

static void
gst_sip_rtp_src_init (GstSipRtpSrc * self)
{
  self->priv = new GstSipRtpSrcPrivate ();

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_sip_rtp_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_sip_rtp_src_finalize (GObject * object)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (object);

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
gst_sip_rtp_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (object);
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
    case PROP_DTMF_PAYLOAD:
      settings.dtmf_payload = g_value_get_int (value);
      break;
    case PROP_LATENCY:
      settings.latency_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstStructure *
make_stats (GstSipRtpSrc * self)
{
  Counters counters;
  std::string call_id, latched;
  guint local_port;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    const State & state = self->priv->state;
    counters = state.counters;
    call_id = state.call_id;
    local_port = state.local_port;
    if (state.binding) {
      GSocketAddress *address = state.binding->call ().latched_address ();
      latched = voxbridge::socket_address_to_string (address);
      g_clear_object (&address);
    }
  }

  return gst_structure_new ("application/x-siprtpsrc-stats",
      "call-id", G_TYPE_STRING, call_id.c_str (),
      "local-port", G_TYPE_UINT, local_port,
      "packets-received", G_TYPE_UINT64, counters.received,
      "bytes-received", G_TYPE_UINT64, counters.bytes,
      "packets-invalid", G_TYPE_UINT64, counters.invalid,
      "packets-wrong-payload-type", G_TYPE_UINT64,
      counters.wrong_payload_type,
      "packets-not-receiving", G_TYPE_UINT64, counters.not_receiving,
      "packets-lost", G_TYPE_UINT64, counters.lost,
      "packets-late", G_TYPE_UINT64, counters.late,
      "packets-duplicate", G_TYPE_UINT64, counters.duplicates,
      "packets-pushed", G_TYPE_UINT64, counters.pushed,
      "dtmf-events", G_TYPE_UINT64, counters.dtmf_events,
      "latched-address", G_TYPE_STRING, latched.c_str (), nullptr);
}

static void
gst_sip_rtp_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }

  std::lock_guard<std::mutex> guard (self->priv->lock);
  const Settings & settings = self->priv->settings;
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
    case PROP_DTMF_PAYLOAD:
      g_value_set_int (value, settings.dtmf_payload);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, settings.latency_ms);
      break;
    case PROP_LOCAL_PORT:
      g_value_set_uint (value, self->priv->state.local_port);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* Picks up parameters the call's listener delivered. Called with the lock. */
static void
apply_params_locked (GstSipRtpSrc * self)
{
  State & state = self->priv->state;
  if (!state.binding || state.binding->generation () == state.params_generation)
    return;
  state.params_generation = state.binding->generation ();
  RtpMediaParams params = state.binding->params ();

  G711 codec;
  GError *error = nullptr;
  if (params.payload_type < state.kinds.size () &&
      voxbridge::g711_from_params (params, &codec, &error)) {
    state.audio_pt = params.payload_type;
    /* Earlier payload types keep their meaning for packets still on the
     * way; the filter lets only the current ones in. */
    state.kinds[params.payload_type] = codec == G711::PCMU ?
        PayloadKind::PCMU : PayloadKind::PCMA;
  } else {
    GST_WARNING_OBJECT (self, "keeping payload type %d: %s", state.audio_pt,
        error ? error->message : "payload type out of range");
    g_clear_error (&error);
  }
  state.dtmf_pt = params.dtmf_payload_type;
  if (state.dtmf_pt >= 0 && state.dtmf_pt < (gint) state.kinds.size () &&
      state.dtmf_pt != state.audio_pt)
    state.kinds[state.dtmf_pt] = PayloadKind::DTMF;
  state.receive = params.receive;
  state.clock_rate = params.clock_rate ? params.clock_rate : 8000;
  state.kinds_version++;
  GST_INFO_OBJECT (self, "receiving payload type %d, DTMF %d%s",
      state.audio_pt, state.dtmf_pt, state.receive ? "" : " (not receiving)");
}

/* Latches the call to where the caller's RTP really comes from. */
static void
latch_source (GstSipRtpSrc * self, CallBinding & binding,
    GSocketAddress * source)
{
  if (!G_IS_INET_SOCKET_ADDRESS (source))
    return;
  GSocketAddress *latched = binding.call ().latched_address ();
  bool same = false;
  if (latched && G_IS_INET_SOCKET_ADDRESS (latched)) {
    auto *a = G_INET_SOCKET_ADDRESS (latched);
    auto *b = G_INET_SOCKET_ADDRESS (source);
    same = g_inet_socket_address_get_port (a) ==
        g_inet_socket_address_get_port (b) &&
        g_inet_address_equal (g_inet_socket_address_get_address (a),
        g_inet_socket_address_get_address (b));
  }
  if (!same) {
    std::string from = voxbridge::socket_address_to_string (source);
    GST_INFO_OBJECT (self, "latching to %s", from.c_str ());
    binding.call ().latch (source);
  }
  g_clear_object (&latched);
}

/* The RTP header fields the reorder buffer needs. */
struct PacketInfo {
  guint8 pt;
  guint16 seq;
  guint32 ssrc;
  guint payload_len;
};

/* Lets only well-formed RTP of the negotiated payload types in, and counts
 * the rest. Takes a snapshot of the payload types for the receive thread. */
static bool
admit_packet (GstSipRtpSrc * self, GstBuffer * buffer, PacketInfo * info)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  Receiving & receiving = self->priv->receiving;
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  apply_params_locked (self);

  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp)) {
    state.counters.invalid++;
    GST_LOG_OBJECT (self, "dropping a datagram that is not RTP");
    return false;
  }
  info->pt = gst_rtp_buffer_get_payload_type (&rtp);
  info->seq = gst_rtp_buffer_get_seq (&rtp);
  info->ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  info->payload_len = gst_rtp_buffer_get_payload_len (&rtp);
  gst_rtp_buffer_unmap (&rtp);

  const gint pt = info->pt;
  if (pt != state.audio_pt && pt != state.dtmf_pt) {
    state.counters.wrong_payload_type++;
    GST_LOG_OBJECT (self, "dropping payload type %d", pt);
    return false;
  }
  if ((pt == state.audio_pt && info->payload_len == 0) ||
      (pt == state.dtmf_pt && info->payload_len < 4)) {
    state.counters.invalid++;
    return false;
  }
  if (!state.receive) {
    state.counters.not_receiving++;
    receiving.interrupted = true;
    return false;
  }
  /* Copied only when they changed (a re-INVITE), not per packet. */
  if (receiving.kinds_version != state.kinds_version) {
    receiving.kinds = state.kinds;
    receiving.clock_rate = state.clock_rate;
    receiving.kinds_version = state.kinds_version;
  }
  return true;
}

static const char *
dtmf_digit (guint8 event)
{
  static const char *const digits[] = { "0", "1", "2", "3", "4", "5", "6",
    "7", "8", "9", "*", "#", "A", "B", "C", "D"
  };
  return event < G_N_ELEMENTS (digits) ? digits[event] : nullptr;
}

static GstMessage *
dtmf_message (GstSipRtpSrc * self, const DtmfEvent & event, guint clock_rate,
    const std::string & call_id)
{
  guint duration_ms = static_cast<guint> (
      gst_util_uint64_scale (event.duration, 1000, clock_rate));
  return gst_message_new_element (GST_OBJECT (self),
      gst_structure_new ("siprtp-dtmf",
          "digit", G_TYPE_STRING, dtmf_digit (event.event),
          "duration-ms", G_TYPE_UINT, duration_ms,
          "call-id", G_TYPE_STRING, call_id.c_str (), nullptr));
}

/* A telephone-event packet, in order and without duplicates (RFC 4733):
 * reports each event's start, and the event once, when it ends. */
static void
handle_dtmf_packet (GstSipRtpSrc * self, GstRTPBuffer * rtp)
{
  const guint8 *payload =
      static_cast<const guint8 *> (gst_rtp_buffer_get_payload (rtp));
  if (gst_rtp_buffer_get_payload_len (rtp) < 4)
    return;
  const guint32 rtptime = gst_rtp_buffer_get_timestamp (rtp);
  const guint8 event = payload[0];
  const bool end = (payload[1] & 0x80) != 0;
  const guint8 volume = payload[1] & 0x3f;
  const guint16 duration = GST_READ_UINT16_BE (payload + 2);

  /* 16 and up are flash and line events, no digits. */
  if (dtmf_digit (event) == nullptr)
    return;

  GstMessage *started = nullptr, *unfinished = nullptr, *finished = nullptr;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    DtmfEvent & current = state.dtmf;
    if (!current.active || current.rtptime != rtptime) {
      /* A new event; report the previous one if its end packets were lost. */
      if (current.active && !current.ended) {
        unfinished = dtmf_message (self, current, state.clock_rate,
            state.call_id);
        state.counters.dtmf_events++;
      }
      current = DtmfEvent ();
      current.active = true;
      current.rtptime = rtptime;
      current.event = event;
      started = gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("dtmf-event",
              "number", G_TYPE_INT, (gint) event,
              "volume", G_TYPE_INT, (gint) volume,
              "type", G_TYPE_INT, 1, "method", G_TYPE_INT, 1, nullptr));
    }
    if (!current.ended) {
      current.duration = MAX (current.duration, duration);
      if (end) {
        current.ended = true;
        finished = dtmf_message (self, current, state.clock_rate,
            state.call_id);
        state.counters.dtmf_events++;
      }
    }
  }

  for (GstMessage *message : { unfinished, started, finished })
    if (message)
      gst_element_post_message (GST_ELEMENT (self), message);
}

/* The stream's caps follow the codec of the audio being pushed. */
static void
send_caps (GstSipRtpSrc * self, G711 codec)
{
  Receiving & receiving = self->priv->receiving;
  if (receiving.caps_sent && receiving.caps_codec == codec)
    return;
  GstCaps *caps = gst_caps_new_simple (voxbridge::g711_caps_name (codec),
      "rate", G_TYPE_INT, 8000, "channels", G_TYPE_INT, 1, nullptr);
  /* G.711 as it came when downstream takes it; else 16-bit audio, decoded
   * here (no decoder element per call). */
  GstPad *peer = gst_pad_get_peer (self->srcpad);
  receiving.decode = peer && !gst_pad_query_accept_caps (peer, caps);
  if (peer)
    gst_object_unref (peer);
  if (receiving.decode) {
    gst_caps_unref (caps);
    caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, GST_AUDIO_NE (S16),
        "rate", G_TYPE_INT, 8000, "channels", G_TYPE_INT, 1,
        "layout", G_TYPE_STRING, "interleaved", nullptr);
  }
  gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  if (!receiving.caps_sent) {
    /* Sticky events go in order: the segment follows the first caps. */
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
  }
  receiving.caps_codec = codec;
  receiving.caps_sent = true;
}

static void
check_flow (GstSipRtpSrc * self, GstFlowReturn ret)
{
  Receiving & receiving = self->priv->receiving;
  /* FLUSHING: on the way down; EOS: downstream wants no more. Neither is
   * an error of the call. */
  if (ret >= GST_FLOW_OK || ret == GST_FLOW_FLUSHING || ret == GST_FLOW_EOS ||
      receiving.flow_error_posted)
    return;
  receiving.flow_error_posted = true;
  GST_ELEMENT_FLOW_ERROR (self, ret);
}

/* Packets were declared lost before the audio at @pts: downstream hears
 * nothing for the time between (what the RTP timestamps say, not a guess
 * from the count of missing packets). */
static void
push_gap (GstSipRtpSrc * self, GstClockTime pts)
{
  Receiving & receiving = self->priv->receiving;
  const guint64 lost = receiving.lost_pending;
  receiving.lost_pending = 0;
  if (!GST_CLOCK_TIME_IS_VALID (receiving.next_pts) || !receiving.caps_sent ||
      pts <= receiving.next_pts)
    return;
  GstEvent *gap = gst_event_new_gap (receiving.next_pts,
      pts - receiving.next_pts);
  gst_event_set_gap_flags (gap, GST_GAP_FLAG_MISSING_DATA);
  GST_DEBUG_OBJECT (self, "%" G_GUINT64_FORMAT " packets lost: gap at %"
      GST_TIME_FORMAT " for %" GST_TIME_FORMAT, lost,
      GST_TIME_ARGS (receiving.next_pts),
      GST_TIME_ARGS (pts - receiving.next_pts));
  gst_pad_push_event (self->srcpad, gap);
}

static void
push_audio (GstSipRtpSrc * self, GstRTPBuffer * rtp, G711 codec,
    GstClockTime arrival)
{
  Receiving & receiving = self->priv->receiving;
  bool resynced = false;
  GstClockTime pts = receiving.timeline.pts (gst_rtp_buffer_get_timestamp
      (rtp), receiving.clock_rate, arrival, &resynced);
  /* Never back in time: a reordered sender or the timeline following a
   * drifting clock may move it by a little. */
  if (GST_CLOCK_TIME_IS_VALID (receiving.next_pts) && pts < receiving.next_pts
      && !resynced)
    pts = receiving.next_pts;
  if (resynced && GST_CLOCK_TIME_IS_VALID (receiving.next_pts)) {
    receiving.discont = true;
    pts = MAX (pts, receiving.next_pts);
  }

  send_caps (self, codec);
  const guint samples = gst_rtp_buffer_get_payload_len (rtp);   /* G.711 */
  GstBuffer *out;
  if (receiving.decode) {
    out = gst_buffer_new_allocate (nullptr, samples * 2, nullptr);
    GstMapInfo map;
    gst_buffer_map (out, &map, GST_MAP_WRITE);
    voxbridge::g711_decode (codec, static_cast<const guint8 *> (gst_rtp_buffer_get_payload (rtp)),
        samples, reinterpret_cast<gint16 *> (map.data));
    gst_buffer_unmap (out, &map);
  } else {
    out = gst_rtp_buffer_get_payload_buffer (rtp);
  }
  const GstClockTime duration = gst_util_uint64_scale_int (samples,
      GST_SECOND, receiving.clock_rate);
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DTS (out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (out) = duration;
  GST_BUFFER_FLAGS (out) = 0;
  if (receiving.discont)
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
  /* A talkspurt starts (what rtppcmudepay marks too). */
  if (gst_rtp_buffer_get_marker (rtp))
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_RESYNC);
  receiving.discont = false;

  if (receiving.lost_pending > 0)
    push_gap (self, pts);
  receiving.next_pts = pts + duration;
  check_flow (self, gst_pad_push (self->srcpad, out));
}

/* What the reorder buffer released, in order. */
static void
push_released (GstSipRtpSrc * self, gsize received_bytes)
{
  Receiving & receiving = self->priv->receiving;
  guint64 pushed = 0;
  for (const RtpReorderBuffer::Item & item : receiving.released) {
    switch (item.kind) {
      case RtpReorderBuffer::Item::Kind::RESTART:
        GST_INFO_OBJECT (self, "a new RTP stream starts");
        receiving.timeline.reset ();
        receiving.discont = true;
        break;
      case RtpReorderBuffer::Item::Kind::LOST:
        /* The gap goes out with the next audio, whose time ends it. */
        receiving.lost_pending += item.lost;
        receiving.discont = true;
        break;
      case RtpReorderBuffer::Item::Kind::PACKET:{
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        const GstClockTime arrival = GST_BUFFER_DTS (item.packet);
        /* Mapped once already on arrival. */
        if (gst_rtp_buffer_map (item.packet, GST_MAP_READ, &rtp)) {
          const PayloadKind kind =
              receiving.kinds[gst_rtp_buffer_get_payload_type (&rtp)];
          if (kind == PayloadKind::DTMF)
            handle_dtmf_packet (self, &rtp);
          else if (kind != PayloadKind::NONE)
            push_audio (self, &rtp, kind == PayloadKind::PCMU ? G711::PCMU :
                G711::PCMA, arrival);
          gst_rtp_buffer_unmap (&rtp);
          pushed++;
        }
        gst_buffer_unref (item.packet);
        break;
      }
    }
  }
  receiving.released.clear ();

  std::lock_guard<std::mutex> guard (self->priv->lock);
  Counters & counters = self->priv->state.counters;
  /* Counted once handled: a packet counted as received has been pushed,
   * dropped or put to wait. */
  if (received_bytes > 0) {
    counters.received++;
    counters.bytes += received_bytes;
  }
  counters.pushed += pushed;
  counters.lost = receiving.reorder.lost ();
  counters.late = receiving.reorder.late ();
  counters.duplicates = receiving.reorder.duplicates ();
}

/* The receive thread's wait for the reorder buffer's next deadline. */
static gint64
deadline_delay_us (GstSipRtpSrc * self, GstClockTime now)
{
  const GstClockTime deadline = self->priv->receiving.reorder.deadline ();
  if (!GST_CLOCK_TIME_IS_VALID (deadline))
    return RtpReceiver::kNoDeadline;
  /* In the element's clock; a clock that runs at another pace (a test
   * clock) only makes the receive thread look again. */
  return deadline > now ? static_cast<gint64> ((deadline - now + 999) / 1000) :
      0;
}

static GstClockTime
running_time_now (GstSipRtpSrc * self)
{
  GstClockTime now = gst_element_get_current_running_time (GST_ELEMENT (self));
  return GST_CLOCK_TIME_IS_VALID (now) ? now : 0;
}

/* Whether packets may go downstream: this element PLAYING and no bin around
 * it on its way down. A bin changes its sinks' state before its sources', so
 * without the second test a packet could reach a sink that has just gone to
 * PAUSED and wait there for preroll, holding up the receive thread (every
 * call) until the sink goes on to READY. */
static bool
may_deliver (GstSipRtpSrc * self)
{
  if (!self->priv->delivering.load ())
    return false;
  GstObject *object = GST_OBJECT (gst_object_ref (self));
  for (;;) {
    GST_OBJECT_LOCK (object);
    const bool going_down = GST_STATE_TARGET (object) < GST_STATE_PLAYING;
    GST_OBJECT_UNLOCK (object);
    GstObject *parent = going_down ? nullptr : gst_object_get_parent (object);
    gst_object_unref (object);
    if (going_down)
      return false;
    if (parent == nullptr)
      return true;
    object = parent;
  }
}

/* Not PLAYING any more: what waits is dropped; the stream starts over. */
static void
interrupt_stream (GstSipRtpSrc * self)
{
  Receiving & receiving = self->priv->receiving;
  receiving.reorder.clear ();
  receiving.timeline.reset ();
  receiving.discont = true;
  receiving.interrupted = false;
  receiving.lost_pending = 0;
}

/* The receive thread: one datagram of the call's socket. */
static gint64
on_datagram (GstSipRtpSrc * self, const guint8 * data, gsize size,
    const struct sockaddr_storage & from, socklen_t from_len)
{
  Receiving & receiving = self->priv->receiving;
  if (!may_deliver (self)) {
    receiving.interrupted = true;
    return RtpReceiver::kNoDeadline;
  }
  const GstClockTime arrival = running_time_now (self);
  if (size == 0) {
    /* An empty datagram: not even something to map. */
    std::lock_guard<std::mutex> guard (self->priv->lock);
    self->priv->state.counters.invalid++;
    return deadline_delay_us (self, arrival);
  }
  GstBuffer *buffer = gst_buffer_new_memdup (data, size);
  PacketInfo info;
  if (!admit_packet (self, buffer, &info)) {
    gst_buffer_unref (buffer);
    return deadline_delay_us (self, arrival);
  }
  if (from_len != receiving.last_from_len ||
      memcmp (&from, &receiving.last_from, from_len) != 0) {
    /* binding lives from NULL→READY to READY→NULL, longer than receiving. */
    CallBinding *binding;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      binding = self->priv->state.binding.get ();
    }
    GSocketAddress *source = g_socket_address_new_from_native (
        const_cast<struct sockaddr_storage *> (&from), from_len);
    if (binding && source)
      latch_source (self, *binding, source);
    g_clear_object (&source);
    memcpy (&receiving.last_from, &from, from_len);
    receiving.last_from_len = from_len;
  }
  /* Back from hold (or PAUSED): the sender went on meanwhile, so what was
   * dropped is not loss. */
  if (receiving.interrupted)
    interrupt_stream (self);

  /* The arrival, for the timeline and the reorder deadline. */
  GST_BUFFER_DTS (buffer) = arrival;
  receiving.reorder.push (buffer, info.ssrc, info.seq, arrival,
      receiving.released);
  push_released (self, size);
  return deadline_delay_us (self, arrival);
}

/* The receive thread: the reorder buffer's deadline has come. */
static gint64
on_deadline (GstSipRtpSrc * self)
{
  if (!may_deliver (self)) {
    self->priv->receiving.interrupted = true;
    return RtpReceiver::kNoDeadline;
  }
  const GstClockTime now = running_time_now (self);
  self->priv->receiving.reorder.expire (now, self->priv->receiving.released);
  push_released (self, 0);
  return deadline_delay_us (self, now);
}

/* PAUSED→PLAYING: the receive thread starts handing over the socket's
 * datagrams (what arrived before waits in the socket, like for a live
 * udpsrc that only reads while playing). */
static void
start_receiving (GstSipRtpSrc * self)
{
  GSocket *socket = nullptr;
  guint latency_ms;
  guint64 receiver_id;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (self->priv->state.binding)
      socket = self->priv->state.binding->call ().socket ();
    latency_ms = self->priv->settings.latency_ms;
    receiver_id = self->priv->state.receiver_id;
  }
  if (socket == nullptr)
    return;
  if (receiver_id != 0) {
    /* Back from PAUSED: the receive thread starts the stream over. */
    self->priv->delivering = true;
    return;
  }
  Receiving & receiving = self->priv->receiving;
  receiving.reorder.clear ();
  receiving.reorder.set_latency (latency_ms * GST_MSECOND);
  receiving.timeline.reset ();
  receiving.discont = true;
  receiving.interrupted = false;
  receiving.flow_error_posted = false;
  receiving.last_from_len = 0;
  self->priv->delivering = true;
  receiver_id = RtpReceiver::add (socket,
      [self] (const guint8 * data, gsize size,
          const struct sockaddr_storage & from, socklen_t from_len) {
        return on_datagram (self, data, size, from, from_len);
      }, [self] () {
        return on_deadline (self);
      });
  if (receiver_id == 0)
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not receive RTP"),
        ("the RTP receive thread cannot watch the call's socket"));
  std::lock_guard<std::mutex> guard (self->priv->lock);
  self->priv->state.receiver_id = receiver_id;
}

/* When this returns, no datagram is being handed over and what waited in
 * the reorder buffer is gone. */
static void
stop_receiving (GstSipRtpSrc * self)
{
  guint64 receiver_id;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    receiver_id = self->priv->state.receiver_id;
    self->priv->state.receiver_id = 0;
  }
  self->priv->delivering = false;
  RtpReceiver::remove (receiver_id);
  self->priv->receiving.reorder.clear ();
}

static gboolean
gst_sip_rtp_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      guint latency_ms;
      {
        std::lock_guard<std::mutex> guard (self->priv->lock);
        latency_ms = self->priv->settings.latency_ms;
      }
      /* Live; a packet behind a gap may be pushed up to the latency after
       * its time (what rtpjitterbuffer answered too). */
      gst_query_set_latency (query, TRUE, latency_ms * GST_MSECOND,
          GST_CLOCK_TIME_NONE);
      return TRUE;
    }
    case GST_QUERY_CAPS:{
      GstCaps *caps = gst_pad_get_current_caps (pad);
      if (caps == nullptr)
        caps = gst_pad_get_pad_template_caps (pad);
      voxbridge::answer_caps_query (query, caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* An EOS sent to the element (gst-launch-1.0 -e) ends its stream, as for a
 * live GstBaseSrc. Serialized with the receive thread's pushes by the peer's
 * stream lock; what that thread pushes afterwards gets GST_FLOW_EOS. */
static gboolean
gst_sip_rtp_src_send_event (GstElement * element, GstEvent * event)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (element);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    return gst_pad_push_event (self->srcpad, event);
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

/* READY→PAUSED: the stream starts (caps and segment as soon as the codec
 * is known, so that downstream is negotiated before the first packet). */
static void
start_stream (GstSipRtpSrc * self)
{
  gchar *stream_id = gst_pad_create_stream_id (self->srcpad,
      GST_ELEMENT (self), nullptr);
  gst_pad_push_event (self->srcpad, gst_event_new_stream_start (stream_id));
  g_free (stream_id);

  PayloadKind kind = PayloadKind::NONE;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    const State & state = self->priv->state;
    if (state.audio_pt >= 0)
      kind = state.kinds[state.audio_pt];
  }
  Receiving & receiving = self->priv->receiving;
  receiving.caps_sent = false;
  receiving.next_pts = GST_CLOCK_TIME_NONE;
  receiving.lost_pending = 0;
  /* Else the first audio packet brings caps and segment. */
  if (kind == PayloadKind::PCMU || kind == PayloadKind::PCMA)
    send_caps (self, kind == PayloadKind::PCMU ? G711::PCMU : G711::PCMA);
}

static bool
bind_call (GstSipRtpSrc * self)
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
    /* The receiving side is the one that knows the DTMF payload type. */
    wanted.dtmf_payload_type = settings.dtmf_payload;
    binding = CallBinding::bind_explicit (wanted, &error);
  }
  if (!binding) {
    if (!settings.call_id.empty ())
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("No call '%s' to receive RTP from", settings.call_id.c_str ()),
          ("%s", error->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not open UDP port %u on %s", settings.port,
              settings.address.c_str ()), ("%s", error->message));
    g_clear_error (&error);
    return false;
  }

  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  state.call_id = binding->call_id ();
  state.local_port = binding->call ().local_port ();
  state.binding = std::move (binding);
  state.params_generation = 0;
  state.kinds.fill (PayloadKind::NONE);
  state.kinds_version++;
  state.audio_pt = state.dtmf_pt = -1;
  apply_params_locked (self);
  GST_INFO_OBJECT (self, "bound to call %s on port %u", state.call_id.c_str (),
      state.local_port);
  return true;
}

static GstStateChangeReturn
gst_sip_rtp_src_change_state (GstElement * element, GstStateChange transition)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (element);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!bind_call (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      self->priv->state.counters = Counters ();
      self->priv->state.dtmf = DtmfEvent ();
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* Not waited for: should the receive thread be in a sink that paused
       * before this element (see may_deliver), it waits for preroll until
       * the sink goes on to READY. PAUSED→READY waits. */
      self->priv->delivering = false;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_receiving (self);
      break;
    default:
      break;
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      self->priv->state.binding.reset ();
    }
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      start_stream (self);
      /* A live source: nothing to preroll. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      start_receiving (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:{
      std::lock_guard<std::mutex> guard (self->priv->lock);
      self->priv->state.binding.reset ();
      break;
    }
    default:
      break;
  }
  return ret;
}
