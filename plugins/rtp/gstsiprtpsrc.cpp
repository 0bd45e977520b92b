/**
 * SECTION:element-siprtpsrc
 * @title: siprtpsrc
 * @see_also: siprtpsink, rtpjitterbuffer, rtpptdemux, rtpdtmfdepay
 *
 * Receives the caller's RTP of one SIP call and outputs its G.711 audio as
 * `audio/x-mulaw` or `audio/x-alaw` (8 kHz mono), per the negotiated payload
 * type. Inside: the call's socket → rtpjitterbuffer → rtpptdemux →
 * rtppcmudepay / rtppcmadepay, and rtpdtmfdepay for RFC 4733 telephone
 * events. The socket is read by the process's one RTP receive thread
 * (rtp_receiver.h) rather than by a udpsrc per call: a thread and a wakeup
 * per packet less for every call.
 *
 * Bound to a call of the in-process sipd with `call-id`, or, without sipd,
 * to the explicit `port` / `address` / `payload` / `remote` settings; a
 * siprtpsink with the same `port` in the same process shares the socket
 * (symmetric RTP). The source address of the caller's RTP is latched into
 * the call so that siprtpsink answers there (NAT).
 *
 * Every completed DTMF event is posted once as an element message
 * `siprtp-dtmf` with the fields `digit` (string: "0"-"9", "*", "#",
 * "A"-"D"), `duration-ms` (uint) and `call-id` (string). rtpdtmfdepay's own
 * `dtmf-event` message marks the start of an event.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 siprtpsrc port=40000 ! mulawdec ! audioconvert ! wavenc ! filesink location=caller.wav
 * ]| Receives PCMU on UDP port 40000 and records it. Something to send:
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=40000
 * ]|
 */
#include "gstsiprtpsrc.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rtp_receiver.h"
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
/* No payload field: the jitter buffer then takes any payload type at 8 kHz;
 * admit_packet filters the payload types before it. */
#define RECEIVE_CAPS "application/x-rtp, media = (string) audio, " \
    "clock-rate = (int) 8000"

using voxbridge::CallBinding;
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
  gint dtmf_payload = DEFAULT_DTMF_PAYLOAD;
  guint latency_ms = DEFAULT_LATENCY;
};

/* What each payload type we have accepted means; rtpptdemux asks again
 * whenever it sees a payload type it has no pad for. */
struct PayloadKind {
  bool dtmf;
  G711 codec;
};

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
  guint64 dtmf_events = 0;
};

/* The receive thread's view: packets go to the jitter buffer only while
 * PLAYING, stamped with their arrival in running time. */
struct Receiving {
  guint64 receiver_id = 0;
  GstClock *clock = nullptr;
  GstClockTime base_time = 0;
  bool discont = true;
  /* The source of the last packet, so latching looks only at changes. */
  struct sockaddr_storage last_from = {};
  socklen_t last_from_len = 0;
};

struct State {
  std::unique_ptr<CallBinding> binding;
  std::string call_id;
  guint16 local_port = 0;
  /* The parameters as the streaming threads apply them. */
  guint64 params_generation = 0;
  gint audio_pt = -1;
  gint dtmf_pt = -1;
  bool receive = true;
  guint clock_rate = 8000;
  std::map<guint, PayloadKind> payload_kinds;
  /* Depayloaders created for the pads of rtpptdemux, per payload type. */
  std::map<guint, GstElement *> depayloaders;
  GstElement *audio_depay = nullptr;
  DtmfEvent dtmf;
  Counters counters;
};

}  // namespace

struct GstSipRtpSrcPrivate {
  std::mutex lock;
  Settings settings;
  State state;
  Receiving receiving;          /* the receive thread's, see start_receiving */
};

struct _GstSipRtpSrc {
  GstBin parent;

  GstPad *receive_pad;          /* the socket's datagrams, into the jitter buffer */
  GstElement *jitterbuffer;
  GstElement *ptdemux;
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
        "audio/x-alaw, rate = (int) 8000, channels = (int) 1"));

#define gst_sip_rtp_src_parent_class parent_class
G_DEFINE_TYPE (GstSipRtpSrc, gst_sip_rtp_src, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (siprtpsrc, "siprtpsrc", GST_RANK_NONE,
    GST_TYPE_SIP_RTP_SRC);

static void gst_sip_rtp_src_finalize (GObject * object);
static void gst_sip_rtp_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_sip_rtp_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_sip_rtp_src_change_state (GstElement *
    element, GstStateChange transition);

static gboolean receive_pad_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static GstCaps *on_request_pt_map (GstElement * ptdemux, guint pt,
    gpointer user_data);
static void on_pt_pad_added (GstElement * ptdemux, GstPad * pad,
    gpointer user_data);

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
          "Jitter buffer latency in milliseconds", 0, 10000, DEFAULT_LATENCY,
          flags));
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

  GST_DEBUG_CATEGORY_INIT (gst_sip_rtp_src_debug, "voxbridge-siprtpsrc", 0,
      "SIP call RTP source");
}

static GstElement *
make_child (GstSipRtpSrc * self, const gchar * factory, const gchar * name)
{
  GstElement *element = gst_element_factory_make (factory, name);
  if (element == nullptr) {
    GST_ERROR_OBJECT (self, "element %s is missing", factory);
    return nullptr;
  }
  gst_bin_add (GST_BIN (self), element);
  return element;
}

static void
gst_sip_rtp_src_init (GstSipRtpSrc * self)
{
  self->priv = new GstSipRtpSrcPrivate ();

  self->jitterbuffer = make_child (self, "rtpjitterbuffer", "jitterbuffer");
  self->ptdemux = make_child (self, "rtpptdemux", "ptdemux");

  /* Not one of the element's pads: the receive thread pushes the call's
   * datagrams here. */
  self->receive_pad = gst_pad_new ("receive", GST_PAD_SRC);
  gst_pad_set_query_function (self->receive_pad, receive_pad_query);
  gst_pad_set_element_private (self->receive_pad, self);

  if (self->jitterbuffer && self->ptdemux) {
    g_object_set (self->jitterbuffer, "latency", DEFAULT_LATENCY,
        "do-lost", TRUE, nullptr);
    GstPad *jitter_sink = gst_element_get_static_pad (self->jitterbuffer,
        "sink");
    gst_pad_link (self->receive_pad, jitter_sink);
    gst_object_unref (jitter_sink);
    gst_element_link (self->jitterbuffer, self->ptdemux);
    g_signal_connect (self->ptdemux, "request-pt-map",
        G_CALLBACK (on_request_pt_map), self);
    g_signal_connect (self->ptdemux, "pad-added",
        G_CALLBACK (on_pt_pad_added), self);
  }

  self->srcpad = gst_ghost_pad_new_no_target_from_template ("src",
      gst_static_pad_template_get (&src_template));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_sip_rtp_src_finalize (GObject * object)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (object);

  gst_object_unref (self->receive_pad);
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
      if (self->jitterbuffer)
        g_object_set (self->jitterbuffer, "latency", settings.latency_ms,
            nullptr);
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

  guint64 lost = 0, late = 0, duplicates = 0, pushed = 0;
  GstStructure *jb_stats = nullptr;
  if (self->jitterbuffer)
    g_object_get (self->jitterbuffer, "stats", &jb_stats, nullptr);
  if (jb_stats) {
    gst_structure_get_uint64 (jb_stats, "num-lost", &lost);
    gst_structure_get_uint64 (jb_stats, "num-late", &late);
    gst_structure_get_uint64 (jb_stats, "num-duplicates", &duplicates);
    gst_structure_get_uint64 (jb_stats, "num-pushed", &pushed);
    gst_structure_free (jb_stats);
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
      "packets-lost", G_TYPE_UINT64, lost,
      "packets-late", G_TYPE_UINT64, late,
      "packets-duplicate", G_TYPE_UINT64, duplicates,
      "packets-pushed", G_TYPE_UINT64, pushed,
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
  if (voxbridge::g711_from_params (params, &codec, &error)) {
    state.audio_pt = params.payload_type;
    state.payload_kinds[params.payload_type] = PayloadKind { false, codec };
  } else {
    GST_WARNING_OBJECT (self, "keeping payload type %d: %s", state.audio_pt,
        error->message);
    g_clear_error (&error);
  }
  state.dtmf_pt = params.dtmf_payload_type;
  if (state.dtmf_pt >= 0 && state.dtmf_pt != state.audio_pt)
    state.payload_kinds[state.dtmf_pt] = PayloadKind { true, G711::PCMU };
  state.receive = params.receive;
  state.clock_rate = params.clock_rate ? params.clock_rate : 8000;
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

/* Lets only well-formed RTP of the negotiated payload types through to the
 * jitter buffer, and counts the rest. */
static bool
admit_packet (GstSipRtpSrc * self, GstBuffer * buffer)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  apply_params_locked (self);

  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp)) {
    state.counters.invalid++;
    GST_LOG_OBJECT (self, "dropping a datagram that is not RTP");
    return false;
  }
  gint pt = gst_rtp_buffer_get_payload_type (&rtp);
  guint payload_len = gst_rtp_buffer_get_payload_len (&rtp);
  gst_rtp_buffer_unmap (&rtp);

  if (pt != state.audio_pt && pt != state.dtmf_pt) {
    state.counters.wrong_payload_type++;
    GST_LOG_OBJECT (self, "dropping payload type %d", pt);
    return false;
  }
  if ((pt == state.audio_pt && payload_len == 0) ||
      (pt == state.dtmf_pt && payload_len < 4)) {
    state.counters.invalid++;
    return false;
  }
  if (!state.receive) {
    state.counters.not_receiving++;
    return false;
  }
  state.counters.received++;
  state.counters.bytes += gst_buffer_get_size (buffer);
  return true;
}

/* The receive thread: one datagram of the call's socket. */
static void
on_datagram (GstSipRtpSrc * self, const guint8 * data, gsize size,
    const struct sockaddr_storage & from, socklen_t from_len)
{
  Receiving & receiving = self->priv->receiving;
  GstBuffer *buffer = gst_buffer_new_memdup (data, size);
  if (!admit_packet (self, buffer)) {
    gst_buffer_unref (buffer);
    return;
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
  /* What a live source does: the arrival, in running time. */
  GstClockTime now = gst_clock_get_time (receiving.clock);
  GstClockTime arrival = now > receiving.base_time ?
      now - receiving.base_time : 0;
  GST_BUFFER_DTS (buffer) = arrival;
  GST_BUFFER_PTS (buffer) = arrival;
  if (receiving.discont) {
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    receiving.discont = false;
  }
  gst_pad_push (self->receive_pad, buffer);
}

/* PAUSED→PLAYING: the receive thread starts handing over the socket's
 * datagrams (what arrived before waits in the socket, like for a live
 * udpsrc that only reads while playing). */
static void
start_receiving (GstSipRtpSrc * self)
{
  GSocket *socket = nullptr;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (self->priv->state.binding)
      socket = self->priv->state.binding->call ().socket ();
  }
  Receiving & receiving = self->priv->receiving;
  if (socket == nullptr || receiving.receiver_id != 0)
    return;
  gst_clear_object (&receiving.clock);
  receiving.clock = gst_element_get_clock (GST_ELEMENT (self));
  if (receiving.clock == nullptr)
    receiving.clock = gst_system_clock_obtain ();
  receiving.base_time = gst_element_get_base_time (GST_ELEMENT (self));
  receiving.receiver_id = voxbridge::RtpReceiver::add (socket,
      [self] (const guint8 * data, gsize size,
          const struct sockaddr_storage & from, socklen_t from_len) {
        on_datagram (self, data, size, from, from_len);
      });
  if (receiving.receiver_id == 0)
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not receive RTP"),
        ("the RTP receive thread cannot watch the call's socket"));
}

/* Out of PLAYING: when this returns, no datagram is being handed over. */
static void
stop_receiving (GstSipRtpSrc * self)
{
  Receiving & receiving = self->priv->receiving;
  voxbridge::RtpReceiver::remove (receiving.receiver_id);
  receiving.receiver_id = 0;
  gst_clear_object (&receiving.clock);
}

static gboolean
receive_pad_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* A live source that adds no latency of its own. */
      gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS:{
      voxbridge::answer_caps_query (query, gst_caps_from_string (RECEIVE_CAPS));
      return TRUE;
    }
    default:
      return FALSE;
  }
}

/* READY→PAUSED: the stream the jitter buffer sees starts. */
static void
start_receive_stream (GstSipRtpSrc * self)
{
  gst_pad_set_active (self->receive_pad, TRUE);
  gchar *stream_id = gst_pad_create_stream_id (self->receive_pad,
      GST_ELEMENT (self), "rtp");
  gst_pad_push_event (self->receive_pad,
      gst_event_new_stream_start (stream_id));
  g_free (stream_id);
  GstCaps *caps = gst_caps_from_string (RECEIVE_CAPS);
  gst_pad_push_event (self->receive_pad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (self->receive_pad, gst_event_new_segment (&segment));
  self->priv->receiving.discont = true;
  self->priv->receiving.last_from_len = 0;
}

static GstCaps *
on_request_pt_map (GstElement * ptdemux, guint pt, gpointer user_data)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (user_data);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  const State & state = self->priv->state;
  auto it = state.payload_kinds.find (pt);
  if (it == state.payload_kinds.end ())
    return nullptr;
  const char *encoding = it->second.dtmf ? "TELEPHONE-EVENT" :
      it->second.codec == G711::PCMU ? "PCMU" : "PCMA";
  return gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "audio",
      "clock-rate", G_TYPE_INT, (gint) state.clock_rate,
      "encoding-name", G_TYPE_STRING, encoding,
      "payload", G_TYPE_INT, (gint) pt, nullptr);
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

/* The jitter buffer's thread, packets in order and without duplicates:
 * reports each telephone event once, when it ends. */
static GstPadProbeReturn
on_dtmf_packet (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (user_data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_DROP;
  const guint8 *payload =
      static_cast<const guint8 *> (gst_rtp_buffer_get_payload (&rtp));
  guint payload_len = gst_rtp_buffer_get_payload_len (&rtp);
  guint32 rtptime = gst_rtp_buffer_get_timestamp (&rtp);
  if (payload_len < 4) {
    gst_rtp_buffer_unmap (&rtp);
    return GST_PAD_PROBE_DROP;
  }
  guint8 event = payload[0];
  bool end = (payload[1] & 0x80) != 0;
  guint16 duration = GST_READ_UINT16_BE (payload + 2);
  gst_rtp_buffer_unmap (&rtp);

  /* 16 and up are flash and line events, no digits. */
  if (dtmf_digit (event) == nullptr)
    return GST_PAD_PROBE_DROP;

  GstMessage *unfinished = nullptr, *finished = nullptr;
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

  if (unfinished)
    gst_element_post_message (GST_ELEMENT (self), unfinished);
  if (finished)
    gst_element_post_message (GST_ELEMENT (self), finished);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
drop_data (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

/* rtpptdemux found a new payload type (in the jitter buffer's thread, before
 * the first packet of it): give it a depayloader. */
static void
on_pt_pad_added (GstElement * ptdemux, GstPad * pad, gpointer user_data)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (user_data);
  gchar *name = gst_pad_get_name (pad);
  guint pt = 0;
  bool named = sscanf (name, "src_%u", &pt) == 1;
  g_free (name);

  PayloadKind kind;
  GstElement *previous_audio = nullptr;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    auto it = named ? state.payload_kinds.find (pt) :
        state.payload_kinds.end ();
    if (it == state.payload_kinds.end ()) {
      GST_WARNING_OBJECT (self, "no depayloader for pad %" GST_PTR_FORMAT,
          pad);
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_data,
          nullptr, nullptr);
      return;
    }
    kind = it->second;
    if (!kind.dtmf)
      previous_audio = state.audio_depay;
  }

  const char *factory = kind.dtmf ? "rtpdtmfdepay" :
      kind.codec == G711::PCMU ? "rtppcmudepay" : "rtppcmadepay";
  GstElement *depay = gst_element_factory_make (factory, nullptr);
  if (depay == nullptr) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Element %s is missing", factory), (nullptr));
    return;
  }
  gst_bin_add (GST_BIN (self), depay);
  GstPad *depay_sink = gst_element_get_static_pad (depay, "sink");
  GstPad *depay_src = gst_element_get_static_pad (depay, "src");
  gst_pad_link (pad, depay_sink);

  if (kind.dtmf) {
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_dtmf_packet, self,
        nullptr);
    /* The synthesized tones are not wanted in the call audio. */
    gst_pad_add_probe (depay_src, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
        drop_data, nullptr, nullptr);
  } else {
    if (previous_audio) {
      /* A re-INVITE changed the codec: the old branch goes quiet. */
      GstPad *old_src = gst_element_get_static_pad (previous_audio, "src");
      gst_pad_add_probe (old_src, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
          drop_data, nullptr, nullptr);
      gst_object_unref (old_src);
    }
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), depay_src);
  }
  gst_object_unref (depay_sink);
  gst_object_unref (depay_src);
  gst_element_sync_state_with_parent (depay);

  std::lock_guard<std::mutex> guard (self->priv->lock);
  self->priv->state.depayloaders[pt] = depay;
  if (!kind.dtmf)
    self->priv->state.audio_depay = depay;
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

  g_object_set (self->jitterbuffer, "latency", settings.latency_ms, nullptr);

  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  state.call_id = binding->call_id ();
  state.local_port = binding->call ().local_port ();
  state.binding = std::move (binding);
  state.params_generation = 0;
  state.payload_kinds.clear ();
  apply_params_locked (self);
  GST_INFO_OBJECT (self, "bound to call %s on port %u", state.call_id.c_str (),
      state.local_port);
  return true;
}

static void
remove_depayloaders (GstSipRtpSrc * self)
{
  std::map<guint, GstElement *> depayloaders;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    depayloaders.swap (self->priv->state.depayloaders);
    self->priv->state.audio_depay = nullptr;
  }
  gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), nullptr);
  for (auto & entry : depayloaders) {
    gst_element_set_state (entry.second, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), entry.second);
  }
}

static GstStateChangeReturn
gst_sip_rtp_src_change_state (GstElement * element, GstStateChange transition)
{
  GstSipRtpSrc *self = GST_SIP_RTP_SRC (element);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!self->jitterbuffer || !self->ptdemux) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("rtpjitterbuffer or rtpptdemux is missing"), (nullptr));
        return GST_STATE_CHANGE_FAILURE;
      }
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
      stop_receiving (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_receiving (self);
      gst_pad_set_active (self->receive_pad, FALSE);
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
      start_receive_stream (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      start_receiving (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      remove_depayloaders (self);
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
