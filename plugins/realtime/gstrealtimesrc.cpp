/**
 * SECTION:element-realtimesrc
 * @title: realtimesrc
 *
 * Plays the model's audio of the Realtime session named by `session` (opened
 * by a realtimesink of the same name). A live source: it produces one
 * `frame-ms` buffer per frame time against the pipeline clock, timestamped
 * in running time, with silence whenever the model is quiet, so RTP
 * payloaders downstream send a continuous stream. Output is 24 kHz S16LE or
 * 8 kHz G.711 (µ-law / A-law), whichever downstream negotiates; the session
 * asks the model for exactly that format, so nothing is transcoded.
 *
 * On barge-in (the caller starts speaking) the session empties this
 * element's queue at once, and the element flushes downstream
 * (flush-start/flush-stop from its streaming thread, woken for it) so that
 * queues and siprtpsink drop the answer's audio too. The model's answer is
 * truncated at the audio siprtpsink put on the wire, asked with a custom
 * query; without a siprtpsink downstream, at what left this element. Each
 * answer item's first buffer is preceded by a custom event naming it (see
 * playout_marks.h); frames never mix two items.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e autoaudiosrc ! audioconvert ! audioresample ! \
 *   audio/x-raw,format=S16LE,rate=24000,channels=1 ! \
 *   realtimesink session=s url="ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime" \
 *   realtimesrc session=s ! audioconvert ! autoaudiosink
 * ]|
 */
#include "gstrealtimesrc.h"

#include <gst/audio/audio.h>

#include <mutex>
#include <string>

#include "../playout_marks.h"
#include "realtime_session.h"

GST_DEBUG_CATEGORY_STATIC (gst_realtime_src_debug);
#define GST_CAT_DEFAULT gst_realtime_src_debug

using namespace voxbridge::realtime;

#define DEFAULT_SESSION "default"
#define DEFAULT_FRAME_MS 20
#define DEFAULT_NUM_RESPONSES 0

struct Settings {
  std::string session = DEFAULT_SESSION;
  guint frame_ms = DEFAULT_FRAME_MS;
  guint num_responses = DEFAULT_NUM_RESPONSES;
};

struct State {
  std::shared_ptr<Session> session;
  AudioFormat format = AudioFormat::kPcm24k;
  guint frame_bytes = 0;        /* one frame_ms of audio */
  guint sample_bytes = 2;
  GstClockTime frame_duration = 0;
  GstClockTime start_time = GST_CLOCK_TIME_NONE;  /* running time of the first frame */
  guint64 frames = 0;
  GstClockID clock_id = nullptr;
  bool flushing = false;
  guint64 audio_bytes = 0;      /* model audio that left the element */
  std::string marked_item;      /* the item downstream was last told of */
  bool flush_requested = false; /* barge-in: flush downstream */
  std::string flush_item;       /* ... and count what went out of this item */
};

struct GstRealtimeSrcPrivate {
  std::mutex lock;
  Settings settings;
  State state;
};

struct _GstRealtimeSrc {
  GstPushSrc parent;
  GstRealtimeSrcPrivate *priv;
};

enum {
  PROP_0,
  PROP_SESSION,
  PROP_FRAME_MS,
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
G_DEFINE_TYPE (GstRealtimeSrc, gst_realtime_src, GST_TYPE_PUSH_SRC);
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
    case PROP_FRAME_MS: st.frame_ms = g_value_get_uint (value); break;
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
    case PROP_FRAME_MS: g_value_set_uint (value, st.frame_ms); break;
    case PROP_NUM_RESPONSES: g_value_set_uint (value, st.num_responses); break;
    case PROP_PLAYED_MS:
      g_value_set_uint64 (value, state.audio_bytes / audio_format_bytes_per_ms (state.format));
      break;
    case PROP_QUEUED_MS:
      g_value_set_uint64 (value, state.session ?
          state.session->playout ().queued_bytes () / audio_format_bytes_per_ms (state.format) :
          0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_realtime_src_start (GstBaseSrc * src)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  state.session = Session::attach (self->priv->settings.session);
  state.frames = 0;
  state.start_time = GST_CLOCK_TIME_NONE;
  state.audio_bytes = 0;
  state.frame_bytes = 0;
  state.flushing = false;
  state.marked_item.clear ();
  state.flush_requested = false;
  return TRUE;
}

static gboolean
gst_realtime_src_stop (GstBaseSrc * src)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    session.swap (self->priv->state.session);
  }
  if (session) {
    session->detach_player (GST_ELEMENT (self));
    Session::detach (session);
  }
  return TRUE;
}

static gboolean
gst_realtime_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  AudioFormat format =
      audio_format_from_media_type (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
  std::shared_ptr<Session> session;
  guint frame_bytes, sample_bytes;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    state.format = format;
    state.sample_bytes = format == AudioFormat::kPcm24k ? 2 : 1;
    state.frame_bytes = self->priv->settings.frame_ms * audio_format_bytes_per_ms (format);
    state.frame_duration = self->priv->settings.frame_ms * GST_MSECOND;
    frame_bytes = state.frame_bytes;
    sample_bytes = state.sample_bytes;
    session = state.session;
  }
  GST_INFO_OBJECT (self, "output format %s, %u bytes per frame", audio_format_type (format),
      frame_bytes);
  gst_base_src_set_blocksize (src, frame_bytes);
  if (session) {
    session->attach_player (GST_ELEMENT (self), format, sample_bytes);
    /* The session's thread asks; the streaming thread flushes (only it may
     * without stopping the source's task). */
    session->set_downstream_flush (GST_ELEMENT (self), [self] (const std::string & item_id) {
          std::lock_guard<std::mutex> guard (self->priv->lock);
          State & state = self->priv->state;
          state.flush_requested = true;
          state.flush_item = item_id;
          if (state.clock_id)
            gst_clock_id_unschedule (state.clock_id);
        });
  }
  return TRUE;
}

static gboolean
gst_realtime_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime frame;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      frame = self->priv->settings.frame_ms * GST_MSECOND;
    }
    /* A frame is pushed once its time has fully passed, like a capture source. */
    gst_query_set_latency (query, TRUE, frame, frame);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* Barge-in, on the streaming thread: drops the audio downstream elements
 * still hold, then tells the session how much of @item_id reached the caller
 * (siprtpsink answers the query; -1 when nothing downstream does). */
static void
flush_downstream (GstRealtimeSrc * self, const std::shared_ptr<Session> & session,
    const std::string & item_id)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  gst_pad_push_event (pad, gst_event_new_flush_start ());
  /* Running time goes on: timestamps stay continuous. */
  gst_pad_push_event (pad, gst_event_new_flush_stop (FALSE));
  GstSegment segment;
  GST_OBJECT_LOCK (self);
  gst_segment_copy_into (&GST_BASE_SRC (self)->segment, &segment);
  GST_OBJECT_UNLOCK (self);
  gst_pad_push_event (pad, gst_event_new_segment (&segment));

  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new (VOXBRIDGE_ITEM_SENT_QUERY, "item-id", G_TYPE_STRING, item_id.c_str (),
          NULL));
  gint64 sent_ms = -1;
  guint64 value;
  if (gst_pad_peer_query (pad, query)
      && gst_structure_get_uint64 (gst_query_get_structure (query), "sent-ms", &value))
    sent_ms = (gint64) value;
  gst_query_unref (query);
  GST_DEBUG_OBJECT (self, "barge-in flushed downstream; %" G_GINT64_FORMAT " ms of %s sent",
      sent_ms, item_id.c_str ());
  session->finish_barge_in (item_id, sent_ms);
}

/* A barge-in flush the session asked for, if any. */
static bool
take_flush_request (GstRealtimeSrc * self, std::string * item_id)
{
  std::lock_guard<std::mutex> guard (self->priv->lock);
  State & state = self->priv->state;
  if (!state.flush_requested)
    return false;
  state.flush_requested = false;
  *item_id = state.flush_item;
  state.marked_item.clear ();   /* what follows the flush is marked afresh */
  return true;
}

enum class Wait { kReached, kUnlocked, kWoken };

/* Waits until the running time reaches @end. kUnlocked: flushing (state
 * change); kWoken: the session asked for a barge-in flush first. */
static Wait
wait_until (GstRealtimeSrc * self, GstClockTime end)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  if (!clock)
    return Wait::kReached;   /* no clock (not in a playing pipeline): push as fast as asked */
  GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
  GstClockID id = gst_clock_new_single_shot_id (clock, base + end);
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (self->priv->state.flushing || self->priv->state.flush_requested) {
      bool flushing = self->priv->state.flushing;
      gst_clock_id_unref (id);
      gst_object_unref (clock);
      return flushing ? Wait::kUnlocked : Wait::kWoken;
    }
    self->priv->state.clock_id = id;
  }
  GstClockReturn ret = gst_clock_id_wait (id, nullptr);
  bool flushing;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    self->priv->state.clock_id = nullptr;
    flushing = self->priv->state.flushing;
  }
  gst_clock_id_unref (id);
  gst_object_unref (clock);
  if (ret != GST_CLOCK_UNSCHEDULED)
    return Wait::kReached;
  return flushing ? Wait::kUnlocked : Wait::kWoken;
}

static GstFlowReturn
gst_realtime_src_create (GstPushSrc * psrc, GstBuffer ** out)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (psrc);
  std::shared_ptr<Session> session;
  guint frame_bytes, num_responses;
  GstClockTime frame_duration, timestamp;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    if (state.frame_bytes == 0)
      return GST_FLOW_NOT_NEGOTIATED;
    if (!GST_CLOCK_TIME_IS_VALID (state.start_time)) {
      /* Joining a running pipeline: start at the current running time. */
      GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
      state.start_time = 0;
      if (clock) {
        GstClockTime now = gst_clock_get_time (clock);
        GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
        state.start_time = now > base ? now - base : 0;
        gst_object_unref (clock);
      }
    }
    session = state.session;
    frame_bytes = state.frame_bytes;
    frame_duration = state.frame_duration;
    timestamp = state.start_time + state.frames * frame_duration;
    num_responses = self->priv->settings.num_responses;
  }
  if (!session)
    return GST_FLOW_FLUSHING;
  if (num_responses > 0 && session->responses_done () >= num_responses
      && session->playout ().queued_bytes () == 0) {
    GST_INFO_OBJECT (self, "%u responses played, end of stream", num_responses);
    return GST_FLOW_EOS;
  }
  for (;;) {
    std::string flush_item;
    if (take_flush_request (self, &flush_item))
      flush_downstream (self, session, flush_item);
    Wait wait = wait_until (self, timestamp + frame_duration);
    if (wait == Wait::kUnlocked)
      return GST_FLOW_FLUSHING;
    if (wait == Wait::kReached)
      break;
  }
  /* A barge-in that came as the frame's time was reached. */
  std::string flush_item;
  if (take_flush_request (self, &flush_item))
    flush_downstream (self, session, flush_item);

  GstBuffer *buf = gst_buffer_new_allocate (nullptr, frame_bytes, nullptr);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  std::string item_id;
  gsize audio = session->playout ().pull (map.data, frame_bytes, &item_id);
  gst_buffer_unmap (buf, &map);
  bool new_item = false;
  GST_BUFFER_PTS (buf) = timestamp;
  GST_BUFFER_DURATION (buf) = frame_duration;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    State & state = self->priv->state;
    GST_BUFFER_OFFSET (buf) = state.frames;
    GST_BUFFER_OFFSET_END (buf) = state.frames + 1;
    if (state.frames == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    state.frames++;
    state.audio_bytes += audio;
    if (audio > 0 && item_id != state.marked_item) {
      state.marked_item = item_id;
      new_item = true;
    }
  }
  if (new_item) {
    /* Serialized: siprtpsink attributes what follows to this item. */
    gst_pad_push_event (GST_BASE_SRC_PAD (self), gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
            gst_structure_new (VOXBRIDGE_PLAYOUT_ITEM_EVENT, "item-id", G_TYPE_STRING,
                item_id.c_str (), NULL)));
  }
  if (audio == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);  /* all silence: encoders may skip it */
  *out = buf;
  return GST_FLOW_OK;
}

static gboolean
gst_realtime_src_unlock (GstBaseSrc * src)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  self->priv->state.flushing = true;
  if (self->priv->state.clock_id)
    gst_clock_id_unschedule (self->priv->state.clock_id);
  return TRUE;
}

static gboolean
gst_realtime_src_unlock_stop (GstBaseSrc * src)
{
  GstRealtimeSrc *self = GST_REALTIME_SRC (src);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  self->priv->state.flushing = false;
  return TRUE;
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
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_realtime_src_set_property;
  gobject_class->get_property = gst_realtime_src_get_property;
  gobject_class->finalize = gst_realtime_src_finalize;

  g_object_class_install_property (gobject_class, PROP_SESSION,
      g_param_spec_string ("session", "Session", "Name of the Realtime session (opened by the "
          "realtimesink of the same name)", DEFAULT_SESSION, rw));
  g_object_class_install_property (gobject_class, PROP_FRAME_MS,
      g_param_spec_uint ("frame-ms", "Frame duration", "Duration of each output buffer (ms); "
          "the barge-in cut-off is at most one frame", 5, 200, DEFAULT_FRAME_MS, rw));
  g_object_class_install_property (gobject_class, PROP_NUM_RESPONSES,
      g_param_spec_uint ("num-responses", "Number of responses", "End the stream after this "
          "many model responses have been played (0 = never)", 0, G_MAXUINT,
          DEFAULT_NUM_RESPONSES, rw));
  g_object_class_install_property (gobject_class, PROP_PLAYED_MS,
      g_param_spec_uint64 ("played-ms", "Played", "Model audio that has left this element (ms)",
          0, G_MAXUINT64, 0, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property (gobject_class, PROP_QUEUED_MS,
      g_param_spec_uint64 ("queued-ms", "Queued", "Model audio received but not yet pushed "
          "downstream (ms)", 0, G_MAXUINT64, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Realtime AI session source",
      "Source/Network/Audio", "Plays the audio of an OpenAI / Azure OpenAI Realtime session",
      "voxbridge");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_realtime_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_realtime_src_stop);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_realtime_src_set_caps);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_realtime_src_query);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_realtime_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_realtime_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_realtime_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_realtime_src_debug, "realtimesrc", 0, "Realtime session source");
}

static void
gst_realtime_src_init (GstRealtimeSrc * self)
{
  self->priv = new GstRealtimeSrcPrivate ();
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}
