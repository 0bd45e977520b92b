#include "call_media.h"

#include <gst/app/gstappsink.h>

namespace voxbridge::call {

namespace {

/* How often the question's progress and the far end's silence are checked. */
constexpr guint kPollIntervalMs = 50;
/* The pacer sends whole packets; the question's last partial packet may stay
 * queued forever (its end never reaches siprtpsink). */
constexpr guint64 kPacketMs = 20;

struct Codec {
  const char *encoder;
  const char *decoder;
};

bool
codec_elements (const std::string &name, Codec *codec)
{
  if (name == "PCMU") {
    *codec = {"mulawenc", "mulawdec"};
    return true;
  }
  if (name == "PCMA") {
    *codec = {"alawenc", "alawdec"};
    return true;
  }
  return false;
}

struct Capture {
  CallRecording *recording;
  Channel channel;
  std::atomic<gint64> *ended_ms;   /* the caller's side: its total length */
};

GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  auto *capture = static_cast<Capture *> (user_data);
  GstSample *sample = gst_app_sink_pull_sample (sink);
  if (sample == nullptr)
    return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  if (segment != nullptr && GST_BUFFER_PTS_IS_VALID (buffer))
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buffer));
  GstMapInfo map;
  if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    capture->recording->add (capture->channel, running_time,
        reinterpret_cast<const gint16 *> (map.data), map.size / sizeof (gint16));
    gst_buffer_unmap (buffer, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

void
on_eos (GstAppSink *sink, gpointer user_data)
{
  auto *capture = static_cast<Capture *> (user_data);
  if (capture->ended_ms != nullptr)
    capture->ended_ms->store (static_cast<gint64> (
            capture->recording->received_ms (capture->channel)));
}

void
attach_capture (GstElement *appsink, Capture *capture)
{
  GstAppSinkCallbacks callbacks = {};
  callbacks.eos = on_eos;
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks, capture,
      [] (gpointer data) { delete static_cast<Capture *> (data); });
}

/* Keeps the question's end from siprtpsink, which then sends silence. */
GstPadProbeReturn
drop_eos (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

}  // namespace

std::unique_ptr<CallMedia>
CallMedia::create (const MediaSettings &settings, CallRecording *recording,
    MediaEvents events, std::string *error)
{
  Codec codec;
  if (!codec_elements (settings.codec, &codec)) {
    *error = "unsupported codec '" + settings.codec + "'";
    return nullptr;
  }
  std::unique_ptr<CallMedia> media (new CallMedia ());
  media->settings_ = settings;
  media->events_ = std::move (events);
  media->recording_ = recording;

  /* level's interval is in ns: one measurement per 20 ms packet. */
  gchar *description = g_strdup_printf (
      "filesrc name=question ! wavparse ! audioconvert ! audioresample "
      "! audio/x-raw,format=S16LE,rate=8000,channels=1 ! tee name=split "
      "split. ! queue ! %s name=encoder ! siprtpsink name=rtpsink "
      "split. ! queue ! appsink name=caller sync=false async=false "
      "siprtpsrc name=rtpsrc ! %s ! audioconvert "
      "! audio/x-raw,format=S16LE,rate=8000,channels=1 "
      "! level interval=20000000 post-messages=true "
      "! appsink name=farend sync=false async=false",
      codec.encoder, codec.decoder);
  GError *err = nullptr;
  media->pipeline_ = gst_parse_launch_full (description, nullptr,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  g_free (description);
  if (media->pipeline_ == nullptr) {
    *error = std::string ("cannot build the call's media graph: ") +
        (err != nullptr ? err->message : "unknown error");
    g_clear_error (&err);
    return nullptr;
  }
  /* Running times mean the same thing as g_get_monotonic_time (). */
  GstClock *clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (media->pipeline_), clock);
  gst_object_unref (clock);

  GstBin *bin = GST_BIN (media->pipeline_);
  GstElement *question = gst_bin_get_by_name (bin, "question");
  g_object_set (question, "location", settings.play_path.c_str (), nullptr);
  gst_object_unref (question);

  media->rtp_sink_ = gst_bin_get_by_name (bin, "rtpsink");
  g_object_set (media->rtp_sink_, "call-id", settings.call_id.c_str (), nullptr);
  GstElement *rtp_src = gst_bin_get_by_name (bin, "rtpsrc");
  g_object_set (rtp_src, "call-id", settings.call_id.c_str (), nullptr);
  gst_object_unref (rtp_src);

  GstElement *encoder = gst_bin_get_by_name (bin, "encoder");
  GstPad *encoded = gst_element_get_static_pad (encoder, "src");
  gst_pad_add_probe (encoded, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_eos,
      nullptr, nullptr);
  gst_object_unref (encoded);
  gst_object_unref (encoder);

  GstElement *caller = gst_bin_get_by_name (bin, "caller");
  attach_capture (caller, new Capture {recording, Channel::kCaller,
        &media->question_ms_});
  gst_object_unref (caller);
  GstElement *far_end = gst_bin_get_by_name (bin, "farend");
  attach_capture (far_end, new Capture {recording, Channel::kFarEnd, nullptr});
  gst_object_unref (far_end);

  GstBus *bus = gst_element_get_bus (media->pipeline_);
  media->bus_watch_ = gst_bus_add_watch (bus, on_bus_message, media.get ());
  gst_object_unref (bus);
  return media;
}

CallMedia::~CallMedia ()
{
  stop ();
  if (rtp_sink_ != nullptr)
    gst_object_unref (rtp_sink_);
  if (pipeline_ != nullptr)
    gst_object_unref (pipeline_);
}

bool
CallMedia::start (GstClockTime answer_time, std::string *error)
{
  /* Our own base time, so that the recording's origin is known before the
   * pipeline reaches PLAYING (the question prerolls earlier). */
  GstClock *clock = gst_pipeline_get_clock (GST_PIPELINE (pipeline_));
  const GstClockTime base_time = gst_clock_get_time (clock);
  gst_object_unref (clock);
  gst_element_set_start_time (pipeline_, GST_CLOCK_TIME_NONE);
  gst_element_set_base_time (pipeline_, base_time);
  recording_->set_origin (static_cast<GstClockTimeDiff> (answer_time) -
      static_cast<GstClockTimeDiff> (base_time));

  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    *error = "the call's media graph did not start";
    return false;
  }
  poll_source_ = g_timeout_add (kPollIntervalMs, on_poll, this);
  return true;
}

void
CallMedia::stop ()
{
  if (stopped_)
    return;
  if (poll_source_ != 0) {
    g_source_remove (poll_source_);
    poll_source_ = 0;
  }
  if (bus_watch_ != 0) {
    g_source_remove (bus_watch_);
    bus_watch_ = 0;
  }
  sent_ms_at_stop_ = sent_ms ();
  if (speaking_) {
    speech_ms_ += static_cast<guint64> (quiet_since_us_ - speech_started_us_) / 1000;
    speaking_ = false;
  }
  if (pipeline_ != nullptr)
    gst_element_set_state (pipeline_, GST_STATE_NULL);
  stopped_ = true;
}

guint64
CallMedia::far_end_speech_ms () const
{
  guint64 total = speech_ms_;
  if (speaking_)
    total += static_cast<guint64> (quiet_since_us_ - speech_started_us_) / 1000;
  return total;
}

guint64
CallMedia::sent_ms () const
{
  if (stopped_)
    return sent_ms_at_stop_;
  guint64 sent = 0;
  if (rtp_sink_ != nullptr)
    g_object_get (rtp_sink_, "sent-ms", &sent, nullptr);
  return sent;
}

gboolean
CallMedia::on_poll (gpointer user_data)
{
  auto *self = static_cast<CallMedia *> (user_data);
  const gint64 question_ms = self->question_ms_.load ();
  if (!self->question_sent_ && question_ms >= 0 &&
      self->sent_ms () + kPacketMs >= static_cast<guint64> (question_ms)) {
    self->question_sent_ = true;
    if (self->events_.question_sent)
      self->events_.question_sent (static_cast<guint64> (question_ms));
  }
  if (self->speaking_ && g_get_monotonic_time () - self->quiet_since_us_ >=
      static_cast<gint64> (self->settings_.speech_hangover_ms) * 1000) {
    self->speaking_ = false;
    self->speech_ms_ += static_cast<guint64> (
        self->quiet_since_us_ - self->speech_started_us_) / 1000;
    if (self->events_.far_end_stopped)
      self->events_.far_end_stopped ();
  }
  return G_SOURCE_CONTINUE;
}

void
CallMedia::on_level (const GstStructure *structure)
{
  const GValue *rms = gst_structure_get_value (structure, "rms");
  if (rms == nullptr)
    return;
  double db = -G_MAXDOUBLE;
  /* level still reports per-channel values as a GValueArray. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (G_VALUE_HOLDS (rms, g_value_array_get_type ())) {
    auto *array = static_cast<GValueArray *> (g_value_get_boxed (rms));
    if (array != nullptr && array->n_values > 0)
      db = g_value_get_double (g_value_array_get_nth (array, 0));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (db < settings_.speech_threshold_db)
    return;
  const gint64 now = g_get_monotonic_time ();
  quiet_since_us_ = now;
  if (!speaking_) {
    speaking_ = true;
    speech_started_us_ = now;
    if (events_.far_end_started)
      events_.far_end_started ();
  }
}

gboolean
CallMedia::on_bus_message (GstBus *bus, GstMessage *message, gpointer user_data)
{
  auto *self = static_cast<CallMedia *> (user_data);
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (message);
      if (s != nullptr && gst_structure_has_name (s, "level"))
        self->on_level (s);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error (message, &err, &debug);
      std::string text = std::string (GST_OBJECT_NAME (message->src)) + ": " +
          err->message;
      if (debug != nullptr)
        text += std::string (" (") + debug + ")";
      g_error_free (err);
      g_free (debug);
      if (self->events_.failed)
        self->events_.failed (text);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace voxbridge::call
