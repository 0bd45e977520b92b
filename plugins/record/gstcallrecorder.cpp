/**
 * SECTION:element-callrecorder
 * @title: callrecorder
 *
 * Records the two sides of a call into one stereo file: the "caller" pad on
 * the left channel, the "ai" pad on the right, both placed by running time
 * (audiointerleave fills gaps, packet loss and the model's quiet time, with
 * silence), so a 60 s call gives a 60 s file and an answer sits where the
 * caller heard it. Inputs may be G.711 (audio/x-mulaw, audio/x-alaw) or raw
 * audio of any rate; they are decoded and resampled to @rate.
 *
 * The file is written under a temporary name (location + ".part") in the
 * same directory and renamed to @location once the recording has drained
 * (EOS on both pads) and been synced to disk: a crash never leaves a half
 * file under the final name. When done the element posts an element message
 * "callrecorder-finished" (location, bytes, duration in ns); when it could
 * not record (e.g. the directory is not writable) "callrecorder-failed"
 * (location, message) — never an ERROR: a recording must not end the call.
 *
 * Its sink pads never push back: each input has a leaky queue, and whatever
 * happens inside the recorder (full disk, encoder error, EOS) the pads
 * return GST_FLOW_OK, so a tee in front of it never stalls or fails the
 * call's own audio path.
 *
 * @hold drops all input (the launcher records from the answer on), and
 * @start-time, when set, is sample 0 of the file (running time).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e callrecorder name=rec location=call.wav \
 *   audiotestsrc is-live=true freq=440 ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rec.caller \
 *   audiotestsrc is-live=true freq=880 ! audio/x-raw,rate=24000,channels=1 ! rec.ai
 * ]|
 */
#include "gstcallrecorder.h"

#include <gst/audio/audio.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC (gst_call_recorder_debug);
#define GST_CAT_DEFAULT gst_call_recorder_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT RECORDER_FORMAT_WAV
#define DEFAULT_RATE 8000
#define DEFAULT_HOLD FALSE
#define DEFAULT_START_TIME GST_CLOCK_TIME_NONE
/* Each input's leaky queue holds this much, by size rather than time: the
 * AI's audio comes as fast as the model sends it, stamped where the caller
 * will hear it, so a whole answer can wait here ahead of its time (over
 * 8 minutes of G.711, 40 s of 48 kHz audio). */
#define DEFAULT_QUEUE_BYTES (4 * 1024 * 1024)
/* Data later than this is dropped by the interleaver: room for a slow disk
 * or a busy machine; the recording's own delay does not matter. */
#define DEFAULT_MIX_LATENCY (200 * GST_MSECOND)
#define PART_SUFFIX ".part"

enum RecorderFormat { RECORDER_FORMAT_WAV, RECORDER_FORMAT_OGG };

GType
gst_call_recorder_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {RECORDER_FORMAT_WAV, "16-bit PCM WAV", "wav"},
    {RECORDER_FORMAT_OGG, "Opus in Ogg", "ogg"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCallRecorderFormat", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

struct Settings {
  std::string location;
  RecorderFormat format = DEFAULT_FORMAT;
  gint rate = DEFAULT_RATE;
  bool hold = DEFAULT_HOLD;
  GstClockTime start_time = DEFAULT_START_TIME;
};

/* One input: the sink ghost pad and the chain behind it. */
struct Input {
  GstPad *pad = nullptr;          /* ghost pad, owned by the element */
  GstElement *convert = nullptr;  /* where decodebin's output goes */
  GstElement *rate_filter = nullptr;  /* mono S16 at the recording's rate */
  bool had_caps = false;
  bool eos = false;
  std::atomic<bool> carried {false};  /* a buffer went into the recording */
};

struct State {
  Input inputs[2];
  GstElement *interleave = nullptr;
  GstElement *filesink = nullptr;  /* set from READY on */
  std::string part_location;       /* what filesink writes */
  std::atomic<guint64> samples {0};
  std::atomic<bool> failed {false};
  bool finished = false;
};

struct GstCallRecorderPrivate {
  std::mutex lock;
  Settings settings;
  State state;
  GstClock *clock = nullptr;   /* the pipeline's; children get it at PLAYING */
};

struct _GstCallRecorder {
  GstBin parent;
  GstCallRecorderPrivate *priv;
};

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_RATE,
  PROP_HOLD,
  PROP_START_TIME,
};

#define SINK_CAPS "audio/x-raw; audio/x-mulaw; audio/x-alaw"

static GstStaticPadTemplate caller_template = GST_STATIC_PAD_TEMPLATE ("caller",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate ai_template = GST_STATIC_PAD_TEMPLATE ("ai",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

#define gst_call_recorder_parent_class parent_class
G_DEFINE_TYPE (GstCallRecorder, gst_call_recorder, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (callrecorder, "callrecorder", GST_RANK_NONE,
    GST_TYPE_CALL_RECORDER);

static void
post_failed (GstCallRecorder * self, const std::string & message)
{
  if (self->priv->state.failed.exchange (true))
    return;
  std::string location;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    location = self->priv->settings.location;
  }
  GST_WARNING_OBJECT (self, "recording %s failed: %s", location.c_str (), message.c_str ());
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("callrecorder-failed", "location", G_TYPE_STRING,
              location.c_str (), "message", G_TYPE_STRING, message.c_str (), NULL)));
}

static Input *
input_of (GstCallRecorder * self, GstPad * pad)
{
  for (Input & input : self->priv->state.inputs)
    if (input.pad == pad)
      return &input;
  return nullptr;
}

/* Whether @buffer belongs in the recording (not held back, not before the
 * start, recorder healthy). */
static bool
wanted (GstCallRecorder * self, GstPad * pad, GstBuffer * buffer)
{
  if (self->priv->state.failed)
    return false;
  bool hold;
  GstClockTime start;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    hold = self->priv->settings.hold;
    start = self->priv->settings.start_time;
  }
  if (hold)
    return false;
  if (!GST_CLOCK_TIME_IS_VALID (start) || !GST_BUFFER_PTS_IS_VALID (buffer))
    return true;
  const GstSegment *segment = nullptr;
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (event)
    gst_event_parse_segment (event, &segment);
  bool keep = true;
  if (segment && segment->format == GST_FORMAT_TIME) {
    GstClockTime end = GST_BUFFER_PTS (buffer) +
        (GST_BUFFER_DURATION_IS_VALID (buffer) ? GST_BUFFER_DURATION (buffer) : 0);
    guint64 rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME, end);
    keep = !GST_CLOCK_TIME_IS_VALID (rt) || rt > start;
  }
  if (event)
    gst_event_unref (event);
  return keep;
}

/* Never pushes back on the call: every outcome is OK for upstream. */
static GstFlowReturn
gst_call_recorder_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstCallRecorder *self = GST_CALL_RECORDER (parent);
  if (!wanted (self, pad, buffer)) {
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  for (Input & input : self->priv->state.inputs)
    if (input.pad == pad)
      input.carried = true;
  GstFlowReturn ret = gst_proxy_pad_chain_default (pad, parent, buffer);
  if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING && ret != GST_FLOW_EOS)
    GST_DEBUG_OBJECT (pad, "recording branch returned %s", gst_flow_get_name (ret));
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_call_recorder_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  const guint n = gst_buffer_list_length (list);
  for (guint i = 0; i < n; i++)
    gst_call_recorder_chain (pad, parent, gst_buffer_ref (gst_buffer_list_get (list, i)));
  gst_buffer_list_unref (list);
  return GST_FLOW_OK;
}

static gboolean
gst_call_recorder_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstCallRecorder *self = GST_CALL_RECORDER (parent);
  if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
    /* Like a buffer: not before the recording starts (the interleaver would
     * take its time for the start of the file). */
    GstClockTime pts, duration;
    gst_event_parse_gap (event, &pts, &duration);
    GstBuffer *probe = gst_buffer_new ();
    GST_BUFFER_PTS (probe) = pts;
    GST_BUFFER_DURATION (probe) = duration;
    const bool keep = wanted (self, pad, probe);
    gst_buffer_unref (probe);
    if (!keep) {
      gst_event_unref (event);
      return TRUE;
    }
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (Input *input = input_of (self, pad))
      input->had_caps = true;
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GstPad *mixer_pad = nullptr;
    GstCaps *mixer_caps = nullptr;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      Input *input = input_of (self, pad);
      if (input && input->eos) {
        gst_event_unref (event);
        return TRUE;
      }
      if (input) {
        input->eos = true;
        /* A side that never carried anything (no caps: e.g. no RTP came)
         * has nothing to decode (typefind would fail): it ends at the
         * interleaver, as silence of the recording's format. */
        if (!input->had_caps) {
          GstPad *filter_src = gst_element_get_static_pad (input->rate_filter, "src");
          mixer_pad = gst_pad_get_peer (filter_src);
          gst_object_unref (filter_src);
          g_object_get (input->rate_filter, "caps", &mixer_caps, NULL);
        }
      }
    }
    if (mixer_pad) {
      gchar *stream_id = gst_pad_create_stream_id (pad, GST_ELEMENT (self), nullptr);
      gst_pad_send_event (mixer_pad, gst_event_new_stream_start (stream_id));
      g_free (stream_id);
      if (mixer_caps)
        gst_pad_send_event (mixer_pad, gst_event_new_caps (mixer_caps));
      GstSegment segment;
      gst_segment_init (&segment, GST_FORMAT_TIME);
      gst_pad_send_event (mixer_pad, gst_event_new_segment (&segment));
      gst_pad_send_event (mixer_pad, event);
      if (mixer_caps)
        gst_caps_unref (mixer_caps);
      gst_object_unref (mixer_pad);
      return TRUE;
    }
  }
  gst_pad_event_default (pad, parent, event);
  return TRUE;   /* a recorder that cannot take an event must not fail upstream */
}

/* Answers caps questions from its own template and stays out of allocation,
 * so a tee in front of the recorder negotiates as if it were not there. */
static gboolean
gst_call_recorder_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter = nullptr;
      gst_query_parse_caps (query, &filter);
      GstCaps *caps = gst_pad_get_pad_template_caps (pad);
      if (filter) {
        GstCaps *both = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = both;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps *caps = nullptr;
      gst_query_parse_accept_caps (query, &caps);
      GstCaps *templ = gst_pad_get_pad_template_caps (pad);
      gst_query_set_accept_caps_result (query, gst_caps_can_intersect (caps, templ));
      gst_caps_unref (templ);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      return FALSE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static void
on_decoded_pad (GstElement * decodebin, GstPad * pad, gpointer data)
{
  auto *convert = static_cast<GstElement *> (data);
  GstPad *sink = gst_element_get_static_pad (convert, "sink");
  if (!gst_pad_is_linked (sink) && gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (decodebin, "could not link the decoded audio");
  gst_object_unref (sink);
}

static GstElement *
make (GstCallRecorder * self, const char *factory)
{
  GstElement *element = gst_element_factory_make (factory, nullptr);
  if (!element) {
    GST_ERROR_OBJECT (self, "missing element %s", factory);
    return nullptr;
  }
  gst_bin_add (GST_BIN (self), element);
  return element;
}

/* queue (leaky) ! decodebin ~ audioconvert ! audioresample ! capsfilter ! interleave */
static void
build_input (GstCallRecorder * self, Input & input, GstStaticPadTemplate * templ,
    guint channel)
{
  State & st = self->priv->state;
  GstElement *queue = make (self, "queue");
  GstElement *decode = make (self, "decodebin");
  GstElement *convert = make (self, "audioconvert");
  GstElement *resample = make (self, "audioresample");
  GstElement *caps = make (self, "capsfilter");
  if (!queue || !decode || !convert || !resample || !caps)
    return;
  g_object_set (queue, "leaky", 2 /* downstream */, "max-size-buffers", 0,
      "max-size-bytes", DEFAULT_QUEUE_BYTES, "max-size-time", (guint64) 0, NULL);
  gst_element_link (queue, decode);
  gst_element_link_many (convert, resample, caps, NULL);
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_decoded_pad), convert);
  input.convert = convert;
  input.rate_filter = caps;

  gchar *pad_name = g_strdup_printf ("sink_%u", channel);
  gst_element_link_pads (caps, "src", st.interleave, pad_name);
  g_free (pad_name);

  GstPad *target = gst_element_get_static_pad (queue, "sink");
  GstPadTemplate *pad_templ = gst_static_pad_template_get (templ);
  input.pad = gst_ghost_pad_new_from_template (templ->name_template, target, pad_templ);
  gst_object_unref (pad_templ);
  gst_object_unref (target);
  gst_pad_set_chain_function (input.pad, gst_call_recorder_chain);
  gst_pad_set_chain_list_function (input.pad, gst_call_recorder_chain_list);
  gst_pad_set_event_function (input.pad, gst_call_recorder_sink_event);
  gst_pad_set_query_function (input.pad, gst_call_recorder_sink_query);
  gst_element_add_pad (GST_ELEMENT (self), input.pad);
}

static GstPadProbeReturn
count_samples (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *self = static_cast<GstCallRecorder *> (data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (buffer)
    self->priv->state.samples += gst_buffer_get_size (buffer) / 4;   /* S16 stereo */
  return GST_PAD_PROBE_OK;
}

static void
set_rate_caps (GstCallRecorder * self, gint rate)
{
  GstCaps *caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "S16LE",
      "rate", G_TYPE_INT, rate, "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING,
      "interleaved", NULL);
  for (Input & input : self->priv->state.inputs)
    if (input.rate_filter)
      g_object_set (input.rate_filter, "caps", caps, NULL);
  gst_caps_unref (caps);
}

/* interleave ! [wavenc | opusenc ! oggmux] ! filesink (location.part) */
static bool
build_output (GstCallRecorder * self)
{
  Settings settings;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    settings = self->priv->settings;
  }
  if (settings.location.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No location set for the recording"),
        (NULL));
    return false;
  }
  State & st = self->priv->state;
  set_rate_caps (self, settings.rate);
  st.part_location = settings.location + PART_SUFFIX;
  /* A file that cannot be created fails the recording, not the graph's
   * state change (and with it the call): the audio goes nowhere instead. */
  int fd = g_open (st.part_location.c_str (), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    post_failed (self, "could not create " + st.part_location + ": " + g_strerror (errno));
    st.part_location.clear ();
    GstElement *sink = make (self, "fakesink");
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    return sink && gst_element_link (st.interleave, sink);
  }
  close (fd);
  GstElement *last = st.interleave;
  if (settings.format == RECORDER_FORMAT_WAV) {
    GstElement *enc = make (self, "wavenc");
    if (!enc || !gst_element_link (last, enc))
      return false;
    last = enc;
  } else {
    GstElement *enc = make (self, "opusenc");
    GstElement *mux = make (self, "oggmux");
    if (!enc || !mux || !gst_element_link_many (last, enc, mux, NULL))
      return false;
    last = mux;
  }
  st.filesink = make (self, "filesink");
  if (!st.filesink)
    return false;
  /* Not synced: the recording never adds to the call's latency. */
  g_object_set (st.filesink, "location", st.part_location.c_str (), "sync", FALSE,
      "async", FALSE, NULL);
  return gst_element_link (last, st.filesink);
}

static void
remove_output (GstCallRecorder * self)
{
  State & st = self->priv->state;
  /* Everything downstream of the interleaver was made by build_output. */
  GstPad *src = gst_element_get_static_pad (st.interleave, "src");
  GstPad *peer = gst_pad_get_peer (src);
  gst_object_unref (src);
  while (peer) {
    GstElement *element = gst_pad_get_parent_element (peer);
    gst_object_unref (peer);
    peer = nullptr;
    if (!element)
      break;
    if (GstPad *out = gst_element_get_static_pad (element, "src")) {
      peer = gst_pad_get_peer (out);
      gst_object_unref (out);
    }
    gst_element_set_state (element, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), element);
    gst_object_unref (element);
  }
  st.filesink = nullptr;
}

/* The recording drained: sync it to disk and give it its final name. */
static void
finish (GstCallRecorder * self)
{
  State & st = self->priv->state;
  std::string location;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    if (st.finished)
      return;
    st.finished = true;
    location = self->priv->settings.location;
  }
  if (st.failed)
    return;
  int fd = g_open (st.part_location.c_str (), O_RDONLY, 0);
  if (fd < 0 || fsync (fd) != 0) {
    if (fd >= 0)
      close (fd);
    post_failed (self, "could not sync " + st.part_location + ": " + g_strerror (errno));
    return;
  }
  close (fd);
  if (g_rename (st.part_location.c_str (), location.c_str ()) != 0) {
    post_failed (self, "could not rename " + st.part_location + ": " + g_strerror (errno));
    return;
  }
  GStatBuf info;
  guint64 bytes = g_stat (location.c_str (), &info) == 0 ? (guint64) info.st_size : 0;
  gint rate;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    rate = self->priv->settings.rate;
  }
  const guint64 duration = gst_util_uint64_scale (st.samples, GST_SECOND, rate);
  GST_INFO_OBJECT (self, "recorded %s: %" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT,
      location.c_str (), bytes, GST_TIME_ARGS (duration));
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("callrecorder-finished", "location", G_TYPE_STRING,
              location.c_str (), "bytes", G_TYPE_UINT64, bytes, "duration", G_TYPE_UINT64,
              duration, NULL)));
}

/* Errors inside the recorder become callrecorder-failed: the call goes on. */
static void
gst_call_recorder_handle_message (GstBin * bin, GstMessage * message)
{
  GstCallRecorder *self = GST_CALL_RECORDER (bin);
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR: {
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error (message, &err, &debug);
      GST_WARNING_OBJECT (self, "%s (%s)", err->message, debug ? debug : "");
      post_failed (self, err->message);
      g_clear_error (&err);
      g_free (debug);
      gst_message_unref (message);
      return;
    }
    case GST_MESSAGE_EOS:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->priv->state.filesink))
        finish (self);
      break;
    default:
      break;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* A pipeline hands its clock to every element, nested ones included, before
 * it gives out the base time, which a bin passes to its children only when
 * it changes state itself. A live audiointerleave that runs in between (the
 * call's sources are already live) takes absolute clock time for running
 * time and fills the file with seconds of silence in a burst; every real
 * buffer after that is "late" and dropped. So the children get the clock
 * only after their base time, at PAUSED -> PLAYING; until then the
 * interleaver has no clock and waits for data on both sides. */
static gboolean
gst_call_recorder_set_clock (GstElement * element, GstClock * clock)
{
  GstCallRecorder *self = GST_CALL_RECORDER (element);
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    gst_object_replace ((GstObject **) & self->priv->clock, (GstObject *) clock);
  }
  if (GST_STATE (element) == GST_STATE_PLAYING && GST_STATE_PENDING (element) ==
      GST_STATE_VOID_PENDING)
    return GST_ELEMENT_CLASS (parent_class)->set_clock (element, clock);
  /* Only our own: GstElement's set_clock does not recurse. */
  auto *element_class = static_cast<GstElementClass *> (g_type_class_peek (GST_TYPE_ELEMENT));
  return element_class->set_clock (element, clock);
}

static void
give_children_the_clock (GstCallRecorder * self)
{
  GstClock *clock;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    clock = self->priv->clock ? GST_CLOCK (gst_object_ref (self->priv->clock)) : nullptr;
  }
  const GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (self));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    gst_element_set_base_time (GST_ELEMENT (g_value_get_object (&item)), base);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  GST_ELEMENT_CLASS (parent_class)->set_clock (GST_ELEMENT (self), clock);
  if (clock)
    gst_object_unref (clock);
}

static GstStateChangeReturn
gst_call_recorder_change_state (GstElement * element, GstStateChange transition)
{
  GstCallRecorder *self = GST_CALL_RECORDER (element);
  State & st = self->priv->state;
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    give_children_the_clock (self);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    st.samples = 0;
    st.failed = false;
    st.finished = false;
    for (Input & input : st.inputs)
    {
      input.eos = false;
      input.had_caps = false;
      input.carried = false;
    }
    if (!build_output (self)) {
      remove_output (self);
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element,
      transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    if (!st.finished && !st.part_location.empty ())
      GST_WARNING_OBJECT (self, "stopped before the recording drained; %s left incomplete",
          st.part_location.c_str ());
    remove_output (self);
  }
  return ret;
}

/* Applies @start-time to the interleaver once input is let in. */
static void
apply_start_time (GstCallRecorder * self, GstClockTime start)
{
  if (GST_CLOCK_TIME_IS_VALID (start))
    g_object_set (self->priv->state.interleave, "start-time-selection", 2 /* set */,
        "start-time", (guint64) start, NULL);
  else
    g_object_set (self->priv->state.interleave, "start-time-selection", 1 /* first */, NULL);
}

/* 20 ms of silence in @caps (G.711 or S16 raw), NULL for other formats. */
static GstBuffer *
silence_in (GstCaps * caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  gint rate = 0, channels = 1;
  gst_structure_get_int (s, "rate", &rate);
  gst_structure_get_int (s, "channels", &channels);
  if (rate <= 0 || channels <= 0 || channels > 8)
    return nullptr;
  guint8 fill;
  gsize sample_bytes;
  if (gst_structure_has_name (s, "audio/x-mulaw")) {
    fill = 0xff;
    sample_bytes = 1;
  } else if (gst_structure_has_name (s, "audio/x-alaw")) {
    fill = 0xd5;
    sample_bytes = 1;
  } else if (gst_structure_has_name (s, "audio/x-raw")
      && g_strcmp0 (gst_structure_get_string (s, "format"), "S16LE") == 0) {
    fill = 0;
    sample_bytes = 2;
  } else {
    return nullptr;
  }
  const gsize size = (gsize) rate / 50 * channels * sample_bytes;
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, size, nullptr);
  gst_buffer_memset (buffer, 0, fill, size);
  GST_BUFFER_DURATION (buffer) = 20 * GST_MSECOND;
  GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
  return buffer;
}

/* Recording starts: an input that has its format but has carried nothing
 * yet (the AI side: realtimesrc pushes nothing until the model speaks) gets
 * a moment of silence at @start, so that its decoder is set up and it does
 * not hold back the other side (the interleaver waits for every input to
 * be linked). */
static void
start_quiet_inputs (GstCallRecorder * self, GstClockTime start)
{
  for (Input & input : self->priv->state.inputs) {
    if (!input.pad || input.carried)
      continue;
    GstCaps *caps = gst_pad_get_current_caps (input.pad);
    if (!caps) {
      /* Not even a format yet (an encoder upstream decides it with its
       * first output): the one upstream would give. */
      GstCaps *templ = gst_pad_get_pad_template_caps (input.pad);
      GstCaps *peer = gst_pad_peer_query_caps (input.pad, templ);
      gst_caps_unref (templ);
      if (peer && !gst_caps_is_empty (peer)) {
        peer = gst_caps_fixate (peer);
        if (gst_pad_send_event (input.pad, gst_event_new_caps (peer)))
          caps = gst_caps_ref (peer);
      }
      if (peer)
        gst_caps_unref (peer);
    }
    GstEvent *event = gst_pad_get_sticky_event (input.pad, GST_EVENT_SEGMENT, 0);
    GstBuffer *silence = caps ? silence_in (caps) : nullptr;
    const GstSegment *segment = nullptr;
    if (event)
      gst_event_parse_segment (event, &segment);
    if (silence && segment && segment->format == GST_FORMAT_TIME) {
      GstClockTime at = start;
      if (!GST_CLOCK_TIME_IS_VALID (at)) {
        at = 0;
        if (GstClock *clock = gst_element_get_clock (GST_ELEMENT (self))) {
          const GstClockTime now = gst_clock_get_time (clock);
          const GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
          at = now > base ? now - base : 0;
          gst_object_unref (clock);
        }
      }
      GST_BUFFER_PTS (silence) = gst_segment_position_from_running_time (segment,
          GST_FORMAT_TIME, at);
      if (GST_BUFFER_PTS_IS_VALID (silence)) {
        GST_DEBUG_OBJECT (input.pad, "nothing came yet: starting it with silence");
        gst_pad_chain (input.pad, silence);
        silence = nullptr;
      }
    }
    if (silence)
      gst_buffer_unref (silence);
    if (event)
      gst_event_unref (event);
    if (caps)
      gst_caps_unref (caps);
  }
}

static void
gst_call_recorder_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstCallRecorder *self = GST_CALL_RECORDER (object);
  GstClockTime start = GST_CLOCK_TIME_NONE;
  bool apply = false;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    Settings & s = self->priv->settings;
    switch (prop_id) {
      case PROP_LOCATION: {
        const char *v = g_value_get_string (value);
        s.location = v ? v : "";
        break;
      }
      case PROP_FORMAT:
        s.format = static_cast<RecorderFormat> (g_value_get_enum (value));
        break;
      case PROP_RATE:
        s.rate = g_value_get_int (value);
        break;
      case PROP_HOLD:
        s.hold = g_value_get_boolean (value);
        apply = !s.hold;
        break;
      case PROP_START_TIME:
        s.start_time = g_value_get_uint64 (value);
        apply = !s.hold;
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        return;
    }
    start = s.start_time;
  }
  if (apply) {
    apply_start_time (self, start);
    if (prop_id == PROP_HOLD)
      start_quiet_inputs (self, start);
  }
}

static void
gst_call_recorder_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstCallRecorder *self = GST_CALL_RECORDER (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  const Settings & s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, s.location.empty () ? NULL : s.location.c_str ());
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, s.format);
      break;
    case PROP_RATE:
      g_value_set_int (value, s.rate);
      break;
    case PROP_HOLD:
      g_value_set_boolean (value, s.hold);
      break;
    case PROP_START_TIME:
      g_value_set_uint64 (value, s.start_time);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_call_recorder_finalize (GObject * object)
{
  GstCallRecorder *self = GST_CALL_RECORDER (object);
  gst_clear_object (&self->priv->clock);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_call_recorder_class_init (GstCallRecorderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto rw_ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_call_recorder_set_property;
  gobject_class->get_property = gst_call_recorder_get_property;
  gobject_class->finalize = gst_call_recorder_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "The finished recording's file name; "
          "written as LOCATION.part until it is complete", DEFAULT_LOCATION, rw_ready));
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format", "wav: 16-bit PCM; ogg: Opus in Ogg",
          GST_TYPE_CALL_RECORDER_FORMAT, DEFAULT_FORMAT, rw_ready));
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_int ("rate", "Rate", "Sample rate of the recording (Hz; Opus takes "
          "8000, 12000, 16000, 24000 or 48000)", 8000, 48000, DEFAULT_RATE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_HOLD,
      g_param_spec_boolean ("hold", "Hold", "Drop all input (e.g. until the call is "
          "answered)", DEFAULT_HOLD, (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_START_TIME,
      g_param_spec_uint64 ("start-time", "Start time", "Running time of the recording's "
          "first sample; input before it is dropped (none: the first input buffer)",
          0, G_MAXUINT64, DEFAULT_START_TIME,
          (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING)));

  gst_element_class_add_static_pad_template (element_class, &caller_template);
  gst_element_class_add_static_pad_template (element_class, &ai_template);
  gst_element_class_set_static_metadata (element_class, "Call recorder",
      "Sink/Audio", "Records a call's two sides as one stereo WAV or Ogg Opus file, "
      "aligned in time, written atomically", "voxbridge");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_call_recorder_change_state);
  element_class->set_clock = GST_DEBUG_FUNCPTR (gst_call_recorder_set_clock);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_call_recorder_handle_message);

  gst_type_mark_as_plugin_api (GST_TYPE_CALL_RECORDER_FORMAT, (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_call_recorder_debug, "callrecorder", 0, "Call recorder");
}

static void
set_stereo_positions (GstElement * interleave)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray *positions = g_value_array_new (2);
  GValue position = G_VALUE_INIT;
  g_value_init (&position, GST_TYPE_AUDIO_CHANNEL_POSITION);
  g_value_set_enum (&position, GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT);
  g_value_array_append (positions, &position);
  g_value_set_enum (&position, GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT);
  g_value_array_append (positions, &position);
  g_value_unset (&position);
  g_object_set (interleave, "channel-positions", positions, NULL);
  g_value_array_free (positions);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
gst_call_recorder_init (GstCallRecorder * self)
{
  self->priv = new GstCallRecorderPrivate ();
  State & st = self->priv->state;
  st.interleave = make (self, "audiointerleave");
  if (!st.interleave)
    return;
  set_stereo_positions (st.interleave);
  /* discont-wait 0: a gap in the input (loss, the model's quiet time) is
   * placed at once where its timestamps say, never shifted. */
  g_object_set (st.interleave, "latency", (guint64) DEFAULT_MIX_LATENCY,
      "discont-wait", (guint64) 0, "start-time-selection", 1 /* first */, NULL);
  build_input (self, st.inputs[0], &caller_template, 0);
  build_input (self, st.inputs[1], &ai_template, 1);
  GstPad *src = gst_element_get_static_pad (st.interleave, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, count_samples, self, nullptr);
  gst_object_unref (src);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
  /* The recorder never holds the call's pipeline out of PLAYING: an input
   * that has carried nothing yet leaves its decodebin prerolling. */
  g_object_set (self, "async-handling", TRUE, NULL);
}
