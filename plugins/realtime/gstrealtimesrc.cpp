/**
 * SECTION:element-realtimesrc
 * @title: realtimesrc
 *
 * Plays the model's audio of the Realtime session named by `session` (opened
 * by a realtimesink of the same name). A live source without a streaming
 * thread of its own: each chunk of model audio is pushed downstream as it
 * arrives, on the thread the session receives it on (the process's one
 * Realtime I/O thread), timestamped in running time: at its arrival, or
 * right after the previous buffer when it arrives less than `max-lateness-ms`
 * after that buffer's end (so a stream of chunks stays continuous, and a
 * burst faster than real time is stamped one after the other, ahead of the
 * clock). Output is 24 kHz S16LE or 8 kHz G.711 (µ-law / A-law), whichever
 * downstream negotiates; the session asks the model for exactly that format,
 * so nothing is transcoded.
 *
 * While the model is quiet nothing is pushed: siprtpsink sends silence of its
 * own, and the call recorder fills the time; a GAP event at PLAYING lets
 * sinks preroll before the model first speaks. The first buffer after a quiet
 * time is flagged DISCONT, so audio sinks and audioresample start afresh at
 * its timestamp. When the model's audio of an item is complete an empty
 * DISCONT buffer follows it, which makes audioresample hand over the samples
 * it holds back (the end of the answer would otherwise wait for the next
 * one).
 *
 * Downstream must not block: a burst of model audio is pushed at once and
 * the pushing thread is shared by every session. siprtpsink queues it and
 * paces it out; in front of a clock-synchronised sink (autoaudiosink) put a
 * queue without limits.
 *
 * On barge-in (the caller starts speaking) the session empties what waits
 * here, and the element flushes downstream (flush-start/flush-stop) so that
 * queues and siprtpsink drop the answer's audio too. The model's answer is
 * truncated at the audio siprtpsink put on the wire, asked with a custom
 * query; without a siprtpsink downstream, at what left this element. Each
 * answer item's first buffer is preceded by a custom event naming it (see
 * playout_marks.h); buffers never mix two items.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e autoaudiosrc ! audioconvert ! audioresample ! \
 *   audio/x-raw,format=S16LE,rate=24000,channels=1 ! \
 *   realtimesink session=s url="ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime" \
 *   realtimesrc session=s ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=0 ! \
 *   audioconvert ! autoaudiosink
 * ]|
 */
#include "gstrealtimesrc.h"

#include <mutex>
#include <string>

#include "../playout_marks.h"
#include "io_thread.h"
#include "realtime_session.h"

GST_DEBUG_CATEGORY_STATIC (gst_realtime_src_debug);
#define GST_CAT_DEFAULT gst_realtime_src_debug

using namespace voxbridge::realtime;
using voxbridge::IoThread;

#define DEFAULT_SESSION "default"
#define DEFAULT_MAX_LATENESS_MS 100
#define DEFAULT_NUM_RESPONSES 0
/* Largest buffer pushed at once (1.4 s of 24 kHz audio): a long answer
 * that waited for PLAYING goes out in pieces. */
#define MAX_BUFFER_BYTES 65536

struct Settings {
  std::string session = DEFAULT_SESSION;
  guint max_lateness_ms = DEFAULT_MAX_LATENESS_MS;
  guint num_responses = DEFAULT_NUM_RESPONSES;
};

struct State {
  std::shared_ptr<Session> session;
  AudioFormat format = AudioFormat::kPcm24k;
  guint bytes_per_ms = 48;
  bool negotiated = false;
  bool playing = false;
  bool eos = false;             /* num-responses reached: nothing more */
  bool gap_sent = false;        /* the GAP that lets sinks preroll */
  GstClockTime next_pts = GST_CLOCK_TIME_NONE;  /* end of the last buffer */
  bool stretch_open = false;    /* audio pushed since the last drain */
  guint64 audio_bytes = 0;      /* model audio that left the element */
  std::string marked_item;      /* the item downstream was last told of */
};

struct GstRealtimeSrcPrivate {
  /* Guards settings and state; never held while pushing. Pushes are
   * serialized by the src pad's stream lock. */
  std::mutex lock;
  Settings settings;
  State state;
};

struct _GstRealtimeSrc {
  GstElement parent;
  GstPad *srcpad;
  GstRealtimeSrcPrivate *priv;
};

enum {
  PROP_0,
  PROP_SESSION,
  PROP_MAX_LATENESS_MS,
  PROP_NUM_RESPONSES,
  PROP_PLAYED_MS,
  PROP_QUEUED_MS,
};

#define SRC_CAPS \
  "audio/x-raw, format = (string) S16LE, rate = (int) 24000, channels = (int) 1, " \
  "layout = (string) interleaved; " \
  "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
  "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

#define gst_realtime_src_parent_class parent_class
G_DEFINE_TYPE (GstRealtimeSrc, gst_realtime_src, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (realtimesrc, "realtimesrc", GST_RANK_NONE, GST_TYPE_REALTIME_SRC);

static void
gst_realtime_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  Settings & st = self->priv->settings;
  switch (prop_id) {
    case PROP_SESSION: {
      const char *v = g_value_get_string (value);
      st.session = v && *v ? v : DEFAULT_SESSION;
      break;
    }
    case PROP_MAX_LATENESS_MS: st.max_lateness_ms = g_value_get_uint (value); break;
    case PROP_NUM_RESPONSES: st.num_responses = g_value_get_uint (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_realtime_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  const Settings & st = self->priv->settings;
  const State & state = self->priv->state;
  switch (prop_id) {
    case PROP_SESSION: g_value_set_string (value, st.session.c_str ()); break;
    case PROP_MAX_LATENESS_MS: g_value_set_uint (value, st.max_lateness_ms); break;
    case PROP_NUM_RESPONSES: g_value_set_uint (value, st.num_responses); break;
    case PROP_PLAYED_MS:
      g_value_set_uint64 (value, state.audio_bytes / state.bytes_per_ms);
      break;
    case PROP_QUEUED_MS:
      g_value_set_uint64 (value, state.session ?
          state.session->playout ().queued_bytes () / state.bytes_per_ms : 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstClockTime
running_time_now (GstRealtimeSrc * self)
{
  return gst_element_get_current_running_time (GST_ELEMENT (self));
}

static void on_notice (GstRealtimeSrc * self, Session::PlayerNotice notice);
static void flush_downstream (GstRealtimeSrc * self, const std::string & item_id);

/* Picks the format downstream takes and tells the session (which asks the
 * model for it). Called with the stream lock. */
static bool
negotiate (GstRealtimeSrc * self)
{
  GstPad *pad = self->srcpad;
  GstCaps *templ = gst_pad_get_pad_template_caps (pad);
  GstCaps *caps = gst_pad_peer_query_caps (pad, templ);
  gst_caps_unref (templ);
  if (!caps || gst_caps_is_empty (caps)) {
    if (caps)
      gst_caps_unref (caps);
    GST_WARNING_OBJECT (self, "downstream takes none of the session's formats");
    return false;
  }
  caps = gst_caps_fixate (caps);
  AudioFormat format =
      audio_format_from_media_type (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
  bool ok = gst_pad_push_event (pad, gst_event_new_caps (caps));
  GST_INFO_OBJECT (self, "output %" GST_PTR_FORMAT ": %s", caps, ok ? "accepted" : "refused");
  gst_caps_unref (caps);
  if (!ok)
    return false;

  std::shared_ptr<Session> session;
  bool attach;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    attach = !state.negotiated || state.format != format;
    state.format = format;
    state.bytes_per_ms = audio_format_bytes_per_ms (format);
    state.negotiated = true;
    session = state.session;
  }
  if (session && attach) {
    GstElement *element = GST_ELEMENT (self);
    session->attach_player (element, format, format == AudioFormat::kPcm24k ? 2 : 1);
    /* The callbacks keep the element alive while the session's thread is
     * in them; stop() detaches them. */
    std::shared_ptr<GstRealtimeSrc> ref ((GstRealtimeSrc *) gst_object_ref (self),
        [] (GstRealtimeSrc * p) { gst_object_unref (p); });
    session->set_player_notify (element, [ref] (Session::PlayerNotice notice) {
          on_notice (ref.get (), notice);
        });
    session->set_downstream_flush (element, [ref] (const std::string & item_id) {
          flush_downstream (ref.get (), item_id);
        });
  }
  return true;
}

static void
push_item_mark (GstRealtimeSrc * self, const std::string & item_id)
{
  /* Serialized: siprtpsink attributes what follows to this item. */
  gst_pad_push_event (self->srcpad, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
          gst_structure_new (VOXBRIDGE_PLAYOUT_ITEM_EVENT, "item-id", G_TYPE_STRING,
              item_id.c_str (), NULL)));
}

static bool
report_flow (GstRealtimeSrc * self, GstFlowReturn flow)
{
  if (flow == GST_FLOW_OK)
    return true;
  GST_DEBUG_OBJECT (self, "push: %s", gst_flow_get_name (flow));
  if (flow == GST_FLOW_NOT_NEGOTIATED || flow < GST_FLOW_EOS)
    GST_ELEMENT_FLOW_ERROR (self, flow);
  return false;
}

/* Pushes everything the session has queued, as it is. Stream lock held. */
static void
push_queued_audio (GstRealtimeSrc * self, const std::shared_ptr<Session> & session)
{
  PlayoutQueue & queue = session->playout ();
  for (;;) {
    gsize queued = queue.queued_bytes ();
    if (queued == 0)
      return;
    GstClockTime now = running_time_now (self);
    GstBuffer *buf = gst_buffer_new_allocate (nullptr, MIN (queued, (gsize) MAX_BUFFER_BYTES),
        nullptr);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    std::string item_id;
    gsize taken = queue.take (map.data, map.size, &item_id);
    gst_buffer_unmap (buf, &map);
    if (taken == 0) {
      gst_buffer_unref (buf);
      return;   /* flushed meanwhile */
    }
    gst_buffer_set_size (buf, taken);
    bool new_item;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      State & state = self->priv->state;
      const GstClockTime lateness = self->priv->settings.max_lateness_ms * GST_MSECOND;
      /* On the timeline of the previous buffer unless that has fallen
       * behind the clock: then a new stretch starts now. */
      GstClockTime pts = state.next_pts;
      if (!GST_CLOCK_TIME_IS_VALID (pts)
          || (GST_CLOCK_TIME_IS_VALID (now) && now > pts + lateness)) {
        pts = GST_CLOCK_TIME_IS_VALID (now) ? now : 0;
        GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      }
      GST_BUFFER_PTS (buf) = pts;
      GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (taken, GST_MSECOND, state.bytes_per_ms);
      state.next_pts = pts + GST_BUFFER_DURATION (buf);
      state.audio_bytes += taken;
      state.stretch_open = true;
      new_item = item_id != state.marked_item;
      state.marked_item = item_id;
    }
    if (new_item)
      push_item_mark (self, item_id);
    GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, buf);
    if (!report_flow (self, gst_pad_push (self->srcpad, buf)))
      return;
  }
}

/* After the last audio of an item: an empty DISCONT buffer, on which
 * audioresample hands over the samples it still holds. Stream lock held. */
static void
push_stretch_end (GstRealtimeSrc * self)
{
  GstClockTime pts;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    if (!state.stretch_open)
      return;
    state.stretch_open = false;
    pts = state.next_pts;
  }
  GstBuffer *buf = gst_buffer_new ();
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 0;
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  report_flow (self, gst_pad_push (self->srcpad, buf));
}

/* The session's thread (or, at PLAYING, the I/O thread too): model audio
 * arrived, an item's audio is complete, a response is done. */
static void
on_notice (GstRealtimeSrc * self, Session::PlayerNotice notice)
{
  GST_PAD_STREAM_LOCK (self->srcpad);
  std::shared_ptr<Session> session;
  guint num_responses;
  bool ready;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    const State & state = self->priv->state;
    session = state.session;
    num_responses = self->priv->settings.num_responses;
    ready = state.playing && !state.eos && session;
  }
  GST_LOG_OBJECT (self, "notice %d, %s", (int) notice, ready ? "pushing" : "not playing");
  if (!ready) {
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    return;   /* the audio waits in the session's queue */
  }
  if (gst_pad_check_reconfigure (self->srcpad) && !negotiate (self)) {
    GST_ELEMENT_FLOW_ERROR (self, GST_FLOW_NOT_NEGOTIATED);
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    return;
  }
  bool send_gap;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    send_gap = !self->priv->state.gap_sent;
    self->priv->state.gap_sent = true;
  }
  if (send_gap) {
    /* Nothing may come for a while: sinks downstream preroll on this (a
     * live pipeline reaches PLAYING once every sink has). */
    GstClockTime now = running_time_now (self);
    gst_pad_push_event (self->srcpad, gst_event_new_gap (GST_CLOCK_TIME_IS_VALID (now) ? now : 0,
            0));
  }
  push_queued_audio (self, session);
  if (notice == Session::PlayerNotice::kAudioDone)
    push_stretch_end (self);
  if (num_responses > 0 && session->responses_done () >= num_responses
      && session->playout ().queued_bytes () == 0) {
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      self->priv->state.eos = true;
    }
    push_stretch_end (self);
    GST_INFO_OBJECT (self, "%u responses played, end of stream", num_responses);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
}

/* Barge-in, on the session's thread: drops the audio downstream elements
 * still hold, then tells the session how much of @item_id reached the caller
 * (siprtpsink answers the query; -1 when nothing downstream does). */
static void
flush_downstream (GstRealtimeSrc * self, const std::string & item_id)
{
  GstPad *pad = self->srcpad;
  GST_PAD_STREAM_LOCK (pad);
  std::shared_ptr<Session> session;
  bool active;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    session = state.session;
    active = state.negotiated;
    state.marked_item.clear ();   /* what follows the flush is marked afresh */
    /* What was flushed never plays: the next audio starts at its arrival. */
    state.next_pts = GST_CLOCK_TIME_NONE;
    state.stretch_open = false;
  }
  gint64 sent_ms = -1;
  if (active) {
    gst_pad_push_event (pad, gst_event_new_flush_start ());
    /* Running time goes on: timestamps stay in running time. */
    gst_pad_push_event (pad, gst_event_new_flush_stop (FALSE));
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (pad, gst_event_new_segment (&segment));

    GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
        gst_structure_new (VOXBRIDGE_ITEM_SENT_QUERY, "item-id", G_TYPE_STRING,
            item_id.c_str (), NULL));
    guint64 value;
    if (gst_pad_peer_query (pad, query)
        && gst_structure_get_uint64 (gst_query_get_structure (query), "sent-ms", &value))
      sent_ms = (gint64) value;
    gst_query_unref (query);
  }
  GST_PAD_STREAM_UNLOCK (pad);
  GST_DEBUG_OBJECT (self, "barge-in flushed downstream; %" G_GINT64_FORMAT " ms of %s sent",
      sent_ms, item_id.c_str ());
  if (session)
    session->finish_barge_in (item_id, sent_ms);
}

static gboolean
gst_realtime_src_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (parent);
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime lateness;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      lateness = self->priv->settings.max_lateness_ms * GST_MSECOND;
    }
    /* Audio is stamped up to max-lateness-ms before it is pushed; how much
     * arrives ahead of the clock has no limit. */
    gst_query_set_latency (query, TRUE, lateness, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* READY→PAUSED, pad active: the stream's sticky events. */
static bool
start_stream (GstRealtimeSrc * self)
{
  GstPad *pad = self->srcpad;
  GST_PAD_STREAM_LOCK (pad);
  gchar *stream_id = gst_pad_create_stream_id (pad, GST_ELEMENT (self), nullptr);
  gst_pad_push_event (pad, gst_event_new_stream_start (stream_id));
  g_free (stream_id);
  bool ok = negotiate (self);
  if (ok) {
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (pad, gst_event_new_segment (&segment));
  }
  GST_PAD_STREAM_UNLOCK (pad);
  return ok;
}

static void
reset_state_locked (State & state)
{
  state.negotiated = false;
  state.playing = false;
  state.eos = false;
  state.gap_sent = false;
  state.next_pts = GST_CLOCK_TIME_NONE;
  state.stretch_open = false;
  state.audio_bytes = 0;
  state.marked_item.clear ();
}

static GstStateChangeReturn
gst_realtime_src_change_state (GstElement * element, GstStateChange transition)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (element);
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      reset_state_locked (self->priv->state);
      self->priv->state.session = Session::attach (self->priv->settings.session);
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      self->priv->state.playing = false;
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* Not fatal to the state change: like a base source, the error is
       * posted and nothing flows. */
      if (!start_stream (self))
        GST_ELEMENT_FLOW_ERROR (self, GST_FLOW_NOT_NEGOTIATED);
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      {
        std::lock_guard<std::mutex> guard (self->priv->lock);
        self->priv->state.playing = true;
      }
      /* Audio that came before PLAYING leaves from the session's thread,
       * like the rest. */
      gst_object_ref (self);
      IoThread::run ([self] {
            on_notice (self, Session::PlayerNotice::kAudio);
            gst_object_unref (self);
          });
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::shared_ptr<Session> session;
      {
        std::lock_guard<std::mutex> guard (self->priv->lock);
        session.swap (self->priv->state.session);
        reset_state_locked (self->priv->state);
      }
      if (session) {
        session->detach_player (element);
        Session::detach (session);
      }
      break;
    }
    default:
      break;
  }
  return ret;
}

static void
gst_realtime_src_finalize (GObject * object)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (object);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_realtime_src_class_init (GstRealtimeSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_realtime_src_set_property;
  gobject_class->get_property = gst_realtime_src_get_property;
  gobject_class->finalize = gst_realtime_src_finalize;

  g_object_class_install_property (gobject_class, PROP_SESSION,
      g_param_spec_string ("session", "Session", "Name of the Realtime session (opened by the "
          "realtimesink of the same name)", DEFAULT_SESSION, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_LATENESS_MS,
      g_param_spec_uint ("max-lateness-ms", "Maximum lateness", "Model audio arriving up to "
          "this long after the end of the previous buffer continues its timeline; later audio "
          "starts a new one at its arrival (DISCONT). Also the latency the element reports (ms)",
          0, 1000, DEFAULT_MAX_LATENESS_MS, rw));
  g_object_class_install_property (gobject_class, PROP_NUM_RESPONSES,
      g_param_spec_uint ("num-responses", "Number of responses", "End the stream after this "
          "many model responses have been played (0 = never)", 0, G_MAXUINT,
          DEFAULT_NUM_RESPONSES, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYED_MS,
      g_param_spec_uint64 ("played-ms", "Played", "Model audio that has left this element (ms)",
          0, G_MAXUINT64, 0, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_QUEUED_MS,
      g_param_spec_uint64 ("queued-ms", "Queued", "Model audio received but not yet pushed "
          "downstream (ms; only before PLAYING)", 0, G_MAXUINT64, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Realtime AI session source",
      "Source/Network/Audio", "Plays the audio of an OpenAI / Azure OpenAI Realtime session",
      "voxbridge");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_realtime_src_change_state);

  GST_DEBUG_CATEGORY_INIT (gst_realtime_src_debug, "realtimesrc", 0, "Realtime session source");
}

static void
gst_realtime_src_init (GstRealtimeSrc * self)
{
  self->priv = new GstRealtimeSrcPrivate ();
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad, GST_DEBUG_FUNCPTR (gst_realtime_src_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}
