/* A call's recording, transcript and summary, and the end of its graph. */

#include "call_recording.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <deque>
#include <map>

#include "call_summary.h"
#include "graph_elements.h"
#include "transcript_writer.h"
#include "webhook_client.h"

namespace voxbridge::launcher {

namespace {

/* The recording gets this long to drain after hang-up (slow disk). */
constexpr guint kDrainTimeoutS = 5;
constexpr size_t kRecentCalls = 100;

std::map<CallRecording *, std::shared_ptr<CallRecording>> & finishing ()
{
  static std::map<CallRecording *, std::shared_ptr<CallRecording>> calls;
  return calls;
}

std::vector<std::function<void ()>> & idle_waiters ()
{
  static std::vector<std::function<void ()>> waiters;
  return waiters;
}

std::deque<std::pair<std::string, CallInfo>> & recent ()
{
  static std::deque<std::pair<std::string, CallInfo>> calls;
  return calls;
}

/* Call ids come from SIP: keep file names to a safe alphabet. */
std::string
file_stem (const std::string & call_id)
{
  std::string out;
  for (char c : call_id)
    out += (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty () || out[0] == '.')
    out = "call" + out;
  return out;
}

/* The AI side is recorded where the caller hears it: siprtpsink sends at
 * its own pace (one packet per ptime) whatever the buffers' timestamps say,
 * so a buffer entering it goes on the wire after the audio it still has
 * queued. Restamped with that time, the recording places the AI's audio
 * where voxbridge-call (the caller) hears it, not where realtimesrc put it. */
GstPadProbeReturn
stamp_with_wire_time (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto *sink = static_cast<GstElement *> (data);
  GstClock *clock = gst_element_get_clock (sink);
  if (!clock)
    return GST_PAD_PROBE_OK;
  const GstClockTime now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  const GstClockTime base = gst_element_get_base_time (sink);
  guint64 queued_ms = 0;
  g_object_get (sink, "queued-ms", &queued_ms, NULL);
  const GstClockTime wire_rt = (now > base ? now - base : 0) + queued_ms * GST_MSECOND;
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (!event)
    return GST_PAD_PROBE_OK;
  const GstSegment *segment = nullptr;
  gst_event_parse_segment (event, &segment);
  const guint64 pts = segment->format == GST_FORMAT_TIME
      ? gst_segment_position_from_running_time (segment, GST_FORMAT_TIME, wire_rt)
      : GST_CLOCK_TIME_NONE;
  gst_event_unref (event);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
    GST_BUFFER_PTS (buffer) = pts;
    GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
    GST_PAD_PROBE_INFO_DATA (info) = buffer;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

CallRecording::CallRecording (std::string call_id, std::string route,
    CallRecordSettings settings, Publish publish)
  : call_id_ (std::move (call_id)), route_ (std::move (route)),
    settings_ (std::move (settings)), publish_ (std::move (publish))
{
  if (settings_.summary)
    summary_ = std::make_unique<CallSummary> (settings_.summary_timeout_s);
}

CallRecording::~CallRecording ()
{
  if (bus_watch_ != 0)
    g_source_remove (bus_watch_);
  if (drain_timer_ != 0)
    g_source_remove (drain_timer_);
  for (Tap & tap : taps_) {
    if (tap.tee_pad)
      gst_object_unref (tap.tee_pad);
    if (tap.recorder_pad)
      gst_object_unref (tap.recorder_pad);
  }
  if (recorder_)
    gst_object_unref (recorder_);
  if (pipeline_) {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (pipeline_);
  }
}

void
CallRecording::publish (CallEventType type,
    std::vector<std::pair<std::string, std::string>> fields)
{
  publish_ (CallEvent::now (type, call_id_, std::move (fields)));
}

bool
CallRecording::attach (GstElement * pipeline)
{
  if (settings_.recording == RecordingFormat::Off)
    return true;
  if (g_mkdir_with_parents (settings_.dir.c_str (), 0755) != 0) {
    g_warning ("call %s: not recorded: cannot create %s: %s", call_id_.c_str (),
        settings_.dir.c_str (), g_strerror (errno));
    publish (CallEventType::Error, {{"cause", "recording"},
        {"message", "cannot create " + settings_.dir}});
    return false;
  }
  /* The caller: siprtpsrc's output (stamped at arrival by its reorder
   * buffer). The AI: what goes into siprtpsink (see stamp_with_wire_time),
   * or realtimesrc's output in a graph without one. */
  GstElement *rtp_sink = find_element_of_factory (pipeline, "siprtpsink");
  GstElement *ai_source = nullptr;
  if (rtp_sink) {
    GstPad *sink_pad = gst_element_get_static_pad (rtp_sink, "sink");
    GstPad *feeding = sink_pad ? gst_pad_get_peer (sink_pad) : nullptr;
    ai_source = feeding ? gst_pad_get_parent_element (feeding) : nullptr;
    if (feeding)
      gst_object_unref (feeding);
    if (sink_pad)
      gst_object_unref (sink_pad);
    GstElement *realtime = find_element_of_factory (pipeline, "realtimesrc");
    if (!realtime && ai_source) {
      /* siprtpsink fed by something else (echo test): not the AI. */
      gst_object_unref (ai_source);
      ai_source = nullptr;
    }
    if (realtime)
      gst_object_unref (realtime);
  } else {
    ai_source = find_element_of_factory (pipeline, "realtimesrc");
  }
  GstElement *sources[2] = {find_element_of_factory (pipeline, "siprtpsrc"), ai_source};
  if (!sources[0] && !sources[1]) {
    if (rtp_sink)
      gst_object_unref (rtp_sink);
    g_message ("call %s: not recorded: the graph has neither siprtpsrc nor realtimesrc",
        call_id_.c_str ());
    return false;
  }
  const char *format = recording_format_name (settings_.recording);
  recording_path_ = settings_.dir + G_DIR_SEPARATOR_S + file_stem (call_id_) + "." + format;
  recorder_ = gst_element_factory_make ("callrecorder", ("recorder-" + call_id_).c_str ());
  if (!recorder_) {
    g_warning ("call %s: not recorded: no callrecorder element (voxbridge plugin)",
        call_id_.c_str ());
    for (GstElement *source : sources)
      if (source)
        gst_object_unref (source);
    if (rtp_sink)
      gst_object_unref (rtp_sink);
    return false;
  }
  gst_object_ref_sink (recorder_);
  gst_util_set_object_arg (G_OBJECT (recorder_), "format", format);
  g_object_set (recorder_, "location", recording_path_.c_str (), "hold", TRUE, NULL);
  gst_bin_add (GST_BIN (pipeline), recorder_);

  const char *recorder_pads[2] = {"caller", "ai"};
  for (int i = 0; i < 2; i++) {
    Tap & tap = taps_[i];
    tap.recorder_pad = gst_element_get_static_pad (recorder_, recorder_pads[i]);
    GstElement *source = sources[i];
    if (!source)
      continue;
    /* source ! tee ! (what followed the source) ; tee. ! recorder */
    GstPad *src = gst_element_get_static_pad (source, "src");
    GstPad *peer = src ? gst_pad_get_peer (src) : nullptr;
    GstBin *bin = GST_BIN (GST_ELEMENT_PARENT (source));
    if (peer) {
      tap.tee = gst_element_factory_make ("tee", nullptr);
      g_object_set (tap.tee, "allow-not-linked", TRUE, NULL);
      gst_bin_add (bin, tap.tee);
      gst_pad_unlink (src, peer);
      GstPad *tee_sink = gst_element_get_static_pad (tap.tee, "sink");
      GstPad *to_call = gst_element_request_pad_simple (tap.tee, "src_%u");
      /* A base sink (realtimesink) blocks the tee while it waits for
       * preroll, and the pipeline waits for the recorder's preroll, which
       * needs that very tee: the call's branch gets a queue of its own. */
      GstPad *call_input = GST_PAD (gst_object_ref (peer));
      GstElement *follower = gst_pad_get_parent_element (peer);
      const GType base_sink = g_type_from_name ("GstBaseSink");
      if (follower && base_sink && G_TYPE_CHECK_INSTANCE_TYPE (follower, base_sink)) {
        GstElement *queue = gst_element_factory_make ("queue", nullptr);
        g_object_set (queue, "max-size-time", (guint64) 200 * GST_MSECOND,
            "leaky", 2 /* downstream */, NULL);
        gst_bin_add (bin, queue);
        GstPad *queue_src = gst_element_get_static_pad (queue, "src");
        gst_pad_link (queue_src, peer);
        gst_object_unref (queue_src);
        gst_object_unref (call_input);
        call_input = gst_element_get_static_pad (queue, "sink");
      }
      if (follower)
        gst_object_unref (follower);
      const bool ok = gst_pad_link (src, tee_sink) == GST_PAD_LINK_OK
          && gst_pad_link (to_call, call_input) == GST_PAD_LINK_OK;
      gst_object_unref (call_input);
      gst_object_unref (tee_sink);
      gst_object_unref (to_call);
      tap.tee_pad = gst_element_request_pad_simple (tap.tee, "src_%u");
      gchar *tee_pad_name = gst_pad_get_name (tap.tee_pad);
      const bool linked = ok && gst_element_link_pads (tap.tee, tee_pad_name, recorder_,
          recorder_pads[i]);
      g_free (tee_pad_name);
      if (!linked)
        g_warning ("call %s: could not tap %s for the recording", call_id_.c_str (),
            GST_OBJECT_NAME (source));
      else if (i == 1 && rtp_sink)
        gst_pad_add_probe (tap.tee_pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_with_wire_time,
            gst_object_ref (rtp_sink), gst_object_unref);
      gst_object_unref (peer);
    }
    if (src)
      gst_object_unref (src);
    gst_object_unref (source);
  }
  if (rtp_sink)
    gst_object_unref (rtp_sink);
  recording_state_ = "held";
  return true;
}

void
CallRecording::on_answered (GstElement * pipeline)
{
  answered_mono_us_ = g_get_monotonic_time ();
  answered_wall_us_ = g_get_real_time ();
  if (recorder_) {
    /* The answer's running time is sample 0 of the file. */
    GstClockTime start = GST_CLOCK_TIME_NONE;
    if (GstClock *clock = gst_element_get_clock (pipeline)) {
      const GstClockTime now = gst_clock_get_time (clock);
      const GstClockTime base = gst_element_get_base_time (pipeline);
      start = now > base ? now - base : 0;
      gst_object_unref (clock);
    }
    g_object_set (recorder_, "start-time", (guint64) start, "hold", FALSE, NULL);
    recording_state_ = "recording";
    recording_started_mono_us_ = answered_mono_us_;
  }
  if (settings_.transcript) {
    if (g_mkdir_with_parents (settings_.dir.c_str (), 0755) != 0) {
      transcript_state_ = "failed";
      publish (CallEventType::Error, {{"cause", "transcript"},
          {"message", "cannot create " + settings_.dir}});
      return;
    }
    transcript_path_ = settings_.dir + G_DIR_SEPARATOR_S + file_stem (call_id_)
        + ".transcript.jsonl";
    std::string error;
    transcript_ = TranscriptWriter::create (transcript_path_, error);
    transcript_state_ = transcript_ ? "recording" : "failed";
    if (!transcript_) {
      g_warning ("call %s: no transcript: %s", call_id_.c_str (), error.c_str ());
      publish (CallEventType::Error, {{"cause", "transcript"}, {"message", error}});
    }
  }
}

CallRecording::ItemTimes &
CallRecording::item (std::vector<ItemTimes> & items, const std::string & item_id)
{
  for (ItemTimes & t : items)
    if (t.item_id == item_id)
      return t;
  if (items.size () >= 64)   /* only recent items can still be in flight */
    items.erase (items.begin ());
  items.push_back ({item_id, 0, 0, 0});
  return items.back ();
}

void
CallRecording::write_transcript (const std::string & speaker, const std::string & item_id,
    const std::string & text)
{
  if (!transcript_ || text.empty ())
    return;
  ItemTimes & t = item (speaker == "caller" ? caller_items_ : ai_items_, item_id);
  const gint64 now_mono = g_get_monotonic_time ();
  const gint64 now_wall = g_get_real_time ();
  TranscriptLine line;
  line.speaker = speaker;
  line.text = text;
  line.item_id = item_id;
  const gint64 start_mono = t.start_mono_us ? t.start_mono_us : now_mono;
  const gint64 end_mono = t.end_mono_us ? t.end_mono_us : now_mono;
  line.start_s = (start_mono - answered_mono_us_) / 1e6;
  line.end_s = (end_mono - answered_mono_us_) / 1e6;
  line.start_wall_us = t.start_wall_us ? t.start_wall_us : now_wall;
  std::string error;
  if (!transcript_->add (line, error)) {
    g_warning ("call %s: transcript: %s", call_id_.c_str (), error.c_str ());
    transcript_state_ = "failed";
    publish (CallEventType::Error, {{"cause", "transcript"}, {"message", error}});
    transcript_.reset ();
  }
}

void
CallRecording::on_message (GstMessage * message)
{
  if (summary_)
    summary_->on_message (message);
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
    return;
  const GstStructure *s = gst_message_get_structure (message);
  if (!s)
    return;
  const char *name = gst_structure_get_name (s);
  if (g_str_equal (name, "callrecorder-failed")) {
    const char *why = gst_structure_get_string (s, "message");
    recording_state_ = "failed";
    g_warning ("call %s: recording failed: %s", call_id_.c_str (), why ? why : "");
    publish (CallEventType::Error, {{"cause", "recording"}, {"message", why ? why : ""}});
    if (draining_)
      maybe_done ();
    return;
  }
  if (g_str_equal (name, "callrecorder-finished")) {
    guint64 duration = 0;
    gst_structure_get_uint64 (s, "bytes", &recording_bytes_);
    gst_structure_get_uint64 (s, "duration", &duration);
    recording_duration_s_ = duration / 1e9;
    recording_state_ = "done";
    if (draining_)
      maybe_done ();
    return;
  }
  if (!transcript_ || answered_mono_us_ == 0)
    return;
  const char *item_id_c = gst_structure_get_string (s, "item-id");
  const std::string item_id = item_id_c ? item_id_c : "";
  gboolean final = FALSE;
  gst_structure_get_boolean (s, "final", &final);
  const char *text = gst_structure_get_string (s, "text");
  if (g_str_equal (name, "realtime-speech-started")) {
    ItemTimes & t = item (caller_items_, item_id);
    t.start_mono_us = g_get_monotonic_time ();
    t.start_wall_us = g_get_real_time ();
  } else if (g_str_equal (name, "realtime-speech-stopped")) {
    item (caller_items_, item_id).end_mono_us = g_get_monotonic_time ();
  } else if (g_str_equal (name, "realtime-input-transcript")) {
    if (final)
      write_transcript ("caller", item_id, text ? text : "");
  } else if (g_str_equal (name, "realtime-output-transcript")) {
    ItemTimes & t = item (ai_items_, item_id);
    if (t.start_mono_us == 0) {
      t.start_mono_us = g_get_monotonic_time ();
      t.start_wall_us = g_get_real_time ();
    }
    if (final) {
      t.end_mono_us = g_get_monotonic_time ();
      write_transcript ("ai", item_id, text ? text : "");
    }
  }
}

std::vector<CallRecordInfo>
CallRecording::records () const
{
  std::vector<CallRecordInfo> out;
  if (!recording_path_.empty ()) {
    CallRecordInfo r;
    r.kind = "recording";
    r.path = recording_path_;
    r.format = recording_format_name (settings_.recording);
    r.state = recording_state_;
    r.bytes = recording_bytes_;
    r.duration_s = recording_duration_s_;
    if (recording_state_ == "recording" || recording_state_ == "draining") {
      GStatBuf st;
      const std::string part = recording_path_ + ".part";
      if (g_stat (part.c_str (), &st) == 0)
        r.bytes = static_cast<guint64> (st.st_size);
      r.duration_s = (g_get_monotonic_time () - recording_started_mono_us_) / 1e6;
    }
    out.push_back (r);
  }
  if (!transcript_path_.empty ()) {
    CallRecordInfo t;
    t.kind = "transcript";
    t.path = transcript_path_;
    t.format = "jsonl";
    t.state = transcript_state_;
    if (transcript_) {
      t.bytes = transcript_->bytes ();
      t.lines = transcript_->lines ();
    }
    out.push_back (t);
  }
  return out;
}

/* ---- end of call ---- */

void
CallRecording::finish (GstElement * pipeline)
{
  auto self = shared_from_this ();
  finishing ()[this] = self;
  pipeline_ = pipeline;
  draining_ = true;
  GstBus *bus = gst_element_get_bus (pipeline_);
  bus_watch_ = gst_bus_add_watch (bus, on_bus_message, this);
  gst_object_unref (bus);

  const bool answered = answered_mono_us_ != 0;
  cut_recorder_inputs ();
  stop_rtp_elements ();
  if (recorder_ && answered && recording_state_ == "recording") {
    recording_state_ = "draining";
    drain_timer_ = g_timeout_add_seconds (kDrainTimeoutS, on_drain_timeout, this);
  }
  if (summary_ && answered) {
    summary_pending_ = true;
    summary_->request (pipeline_, [this] (const std::string & text, const std::string & error) {
          on_summary (text, error);
        });
  }
  maybe_done ();
}

/* EOS into the recorder only: the call's own branches never see it. */
void
CallRecording::cut_recorder_inputs ()
{
  for (Tap & tap : taps_) {
    if (!tap.recorder_pad)
      continue;
    if (!tap.tee_pad) {
      gst_pad_send_event (tap.recorder_pad, gst_event_new_eos ());
      continue;
    }
    /* Cut between two buffers; the probe runs at once if the pad is idle,
     * else from the streaming thread when its push returns. */
    gst_pad_add_probe (tap.tee_pad, GST_PAD_PROBE_TYPE_IDLE,
        [] (GstPad * pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
          auto *recorder_pad = static_cast<GstPad *> (data);
          GstPad *peer = gst_pad_get_peer (pad);
          if (peer) {
            gst_pad_unlink (pad, peer);
            gst_object_unref (peer);
          }
          gst_pad_send_event (recorder_pad, gst_event_new_eos ());
          return GST_PAD_PROBE_REMOVE;
        }, gst_object_ref (tap.recorder_pad), gst_object_unref);
  }
}

/* The SIP call is over: its RTP goes, the AI session stays for the summary. */
void
CallRecording::stop_rtp_elements ()
{
  for (const char *factory : {"siprtpsrc", "siprtpsink"}) {
    while (GstElement *element = find_element_of_factory (pipeline_, factory)) {
      gst_element_set_locked_state (element, TRUE);
      gst_element_set_state (element, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (GST_ELEMENT_PARENT (element)), element);
      gst_object_unref (element);
    }
  }
}

gboolean
CallRecording::on_bus_message (GstBus *, GstMessage * message, gpointer data)
{
  auto *self = static_cast<CallRecording *> (data);
  auto keep = self->shared_from_this ();
  self->handle_finishing_message (message);
  return G_SOURCE_CONTINUE;
}

void
CallRecording::handle_finishing_message (GstMessage * message)
{
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    /* The call is over; an element failing now only ends the wrap-up's
     * use of it (the summary times out, the recording reports itself). */
    GError *err = nullptr;
    gst_message_parse_error (message, &err, nullptr);
    g_message ("call %s: after hang-up, %s: %s", call_id_.c_str (),
        GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), err->message);
    g_clear_error (&err);
    return;
  }
  on_message (message);
}

gboolean
CallRecording::on_drain_timeout (gpointer data)
{
  auto *self = static_cast<CallRecording *> (data);
  auto keep = self->shared_from_this ();
  self->drain_timer_ = 0;
  if (self->recording_state_ == "draining") {
    self->recording_state_ = "failed";
    const std::string message = "the recording did not drain within " +
        std::to_string (kDrainTimeoutS) + " s; left as " + self->recording_path_ + ".part";
    g_warning ("call %s: %s", self->call_id_.c_str (), message.c_str ());
    self->publish (CallEventType::Error, {{"cause", "recording"}, {"message", message}});
  }
  self->maybe_done ();
  return G_SOURCE_REMOVE;
}

void
CallRecording::on_summary (const std::string & text, const std::string & error)
{
  summary_pending_ = false;
  if (text.empty ()) {
    g_message ("call %s: no summary: %s", call_id_.c_str (), error.c_str ());
    publish (CallEventType::Error, {{"cause", "summary"}, {"message", error}});
    maybe_done ();
    return;
  }
  publish (CallEventType::CallSummary, {{"text", text}});
  if (!settings_.summary_webhook.empty ()) {
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "call_id");
    json_builder_add_string_value (b, call_id_.c_str ());
    json_builder_set_member_name (b, "route");
    json_builder_add_string_value (b, route_.c_str ());
    json_builder_set_member_name (b, "summary");
    json_builder_add_string_value (b, text.c_str ());
    json_builder_end_object (b);
    JsonNode *root = json_builder_get_root (b);
    gchar *body = json_to_string (root, FALSE);
    WebhookRequest request;
    request.url = settings_.summary_webhook;
    request.json_body = body;
    g_free (body);
    json_node_unref (root);
    g_object_unref (b);
    webhook_ = std::make_unique<WebhookClient> ();
    webhook_pending_ = true;
    auto self = shared_from_this ();
    webhook_->post_json (request, [self] (const WebhookResult & result) {
          self->webhook_pending_ = false;
          if (!result.ok ()) {
            const std::string why = result.error.empty ()
                ? "HTTP " + std::to_string (result.status) + " " + result.reason : result.error;
            g_warning ("call %s: summary webhook: %s", self->call_id_.c_str (), why.c_str ());
            self->publish (CallEventType::Error, {{"cause", "summary"},
                {"message", "webhook: " + why}});
          }
          self->maybe_done ();
        });
  }
  maybe_done ();
}

void
CallRecording::maybe_done ()
{
  if (finished_ || !draining_)
    return;
  if (recording_state_ == "draining" || summary_pending_ || webhook_pending_)
    return;
  finished_ = true;
  /* Defer: the last step may run inside a callback of what it frees. */
  auto self = shared_from_this ();
  g_idle_add ([] (gpointer data) -> gboolean {
        auto *holder = static_cast<std::shared_ptr<CallRecording> *> (data);
        (*holder)->done ();
        delete holder;
        return G_SOURCE_REMOVE;
      }, new std::shared_ptr<CallRecording> (self));
}

void
CallRecording::done ()
{
  if (drain_timer_ != 0) {
    g_source_remove (drain_timer_);
    drain_timer_ = 0;
  }
  if (bus_watch_ != 0) {
    g_source_remove (bus_watch_);
    bus_watch_ = 0;
  }
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  gst_object_unref (pipeline_);
  pipeline_ = nullptr;

  const bool answered = answered_mono_us_ != 0;
  if (!answered && !recording_path_.empty ()) {
    /* Never answered: nothing was recorded, leave no file. */
    g_unlink ((recording_path_ + ".part").c_str ());
    recording_path_.clear ();
  }
  if (recording_state_ == "done")
    publish (CallEventType::RecordingReady, {{"path", recording_path_},
        {"format", recording_format_name (settings_.recording)},
        {"bytes", std::to_string (recording_bytes_)},
        {"duration_s", format_event_number (recording_duration_s_, 3)}});
  if (transcript_) {
    std::string error;
    if (transcript_->finish (error)) {
      transcript_state_ = "done";
      publish (CallEventType::TranscriptReady, {{"path", transcript_path_},
          {"lines", std::to_string (transcript_->lines ())},
          {"bytes", std::to_string (transcript_->bytes ())}});
    } else {
      transcript_state_ = "failed";
      publish (CallEventType::Error, {{"cause", "transcript"}, {"message", error}});
    }
  }

  for (auto & [id, info] : recent ())
    if (id == call_id_)
      info.records = records ();

  auto keep = shared_from_this ();
  finishing ().erase (this);
  if (finishing ().empty ()) {
    auto waiters = std::move (idle_waiters ());
    idle_waiters ().clear ();
    for (auto & waiter : waiters)
      waiter ();
  }
}

void
CallRecording::when_all_finished (std::function<void ()> done)
{
  if (finishing ().empty ()) {
    done ();
    return;
  }
  g_message ("waiting for %zu call(s) to finish their recordings and summaries",
      finishing ().size ());
  idle_waiters ().push_back (std::move (done));
}

std::optional<CallInfo>
CallRecording::recent_call (const std::string & id)
{
  for (const auto & [call_id, info] : recent ())
    if (call_id == id)
      return info;
  return std::nullopt;
}

void
CallRecording::set_recent_call_info (const std::string & id, CallInfo info)
{
  auto & calls = recent ();
  for (auto & [call_id, known] : calls) {
    if (call_id == id) {
      known = std::move (info);
      return;
    }
  }
  calls.emplace_back (id, std::move (info));
  if (calls.size () > kRecentCalls)
    calls.pop_front ();
}

}  // namespace voxbridge::launcher
