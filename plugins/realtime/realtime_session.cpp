/* A Realtime API session over a WebSocket (websocket_client.h), driven on IoThread. */
#include "realtime_session.h"

#include <libsoup/soup.h>

#include <map>
#include <vector>

#include "io_thread.h"

GST_DEBUG_CATEGORY_STATIC (realtime_session_debug);
#define GST_CAT_DEFAULT realtime_session_debug

namespace voxbridge::realtime {

namespace {

/* Audio deltas of several seconds arrive base64-encoded in one frame. */
constexpr guint64 kMaxIncomingPayload = 64 * 1024 * 1024;
constexpr guint kKeepaliveSeconds = 20;
constexpr guint kFirstRetryDelayMs = 500;

std::mutex registry_lock;
std::map<std::string, std::shared_ptr<Session>> & registry ()
{
  static std::map<std::string, std::shared_ptr<Session>> sessions;
  return sessions;
}

void
ensure_debug_category ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (realtime_session_debug, "realtimesession", 0,
        "voxbridge Realtime API session");
    g_once_init_leave (&once, 1);
  }
}

/* Keeps a session alive across an async call. */
struct SessionRef {
  std::shared_ptr<Session> session;
};

}  // namespace

std::shared_ptr<Session>
Session::attach (const std::string & name)
{
  ensure_debug_category ();
  std::lock_guard<std::mutex> guard (registry_lock);
  auto & sessions = registry ();
  auto it = sessions.find (name);
  if (it == sessions.end ())
    it = sessions.emplace (name, std::make_shared<Session> (name)).first;
  it->second->users_++;
  return it->second;
}

void
Session::detach (const std::shared_ptr<Session> & session)
{
  {
    std::lock_guard<std::mutex> guard (registry_lock);
    if (--session->users_ > 0)
      return;
    registry ().erase (session->name_);
  }
  /* The closure keeps the session alive until its socket is closed. */
  auto self = session;
  IoThread::run ([self] { self->shutdown (); });
}

Session::Session (std::string name) : name_ (std::move (name)) {}

Session::~Session ()
{
  /* shutdown() ran on the I/O thread and released every GObject. */
  g_assert (ws_ == nullptr);
  g_clear_object (&tls_database_);
  g_clear_object (&cancellable_);
}

bool
Session::configure (GstElement * owner, const SessionSettings & settings, std::string * error)
{
  std::string key;
  if (!resolve_api_key (settings.api_key, settings.api_key_env, &key, error))
    return false;
  Endpoint endpoint;
  if (!resolve_endpoint (settings.url, settings.auth, key, &endpoint, error))
    return false;
  if (!settings.options.tools_json.empty ()
      && !validate_tools_json (settings.options.tools_json, error))
    return false;
  if (!settings.ca_file.empty () && !g_file_test (settings.ca_file.c_str (), G_FILE_TEST_IS_REGULAR)) {
    *error = "ca-file " + settings.ca_file + " does not exist";
    return false;
  }
  std::lock_guard<std::mutex> guard (lock_);
  AudioFormat output = settings_.options.output_format;
  bool have_player = player_ != nullptr;
  settings_ = settings;
  if (have_player)
    settings_.options.output_format = output;
  endpoint_ = endpoint;
  gst_object_replace ((GstObject **) & owner_, GST_OBJECT (owner));
  failed_ = false;
  return true;
}

void
Session::release_owner (GstElement * owner)
{
  std::lock_guard<std::mutex> guard (lock_);
  if (owner_ == owner)
    gst_object_replace ((GstObject **) & owner_, nullptr);
}

void
Session::connect ()
{
  auto self = shared_from_this ();
  IoThread::run ([self] {
    if (self->state_ == State::kIdle || self->state_ == State::kClosed) {
      self->reconnects_ = 0;
      self->start_connect ();
    }
  });
}

void
Session::set_input_format (AudioFormat format)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (settings_.options.input_format == format)
      return;
    settings_.options.input_format = format;
  }
  auto self = shared_from_this ();
  IoThread::run ([self] {
    if (self->state_ == State::kOpen)
      self->send_session_update ();
  });
}

void
Session::attach_player (GstElement * player, AudioFormat format, guint frame_bytes)
{
  playout_.reset (audio_format_silence_byte (format), frame_bytes);
  bool changed;
  {
    std::lock_guard<std::mutex> guard (lock_);
    gst_object_replace ((GstObject **) & player_, GST_OBJECT (player));
    changed = settings_.options.output_format != format;
    settings_.options.output_format = format;
    output_bytes_per_ms_ = audio_format_bytes_per_ms (format);
  }
  if (changed) {
    auto self = shared_from_this ();
    IoThread::run ([self] {
      if (self->state_ == State::kOpen)
        self->send_session_update ();
    });
  }
}

void
Session::detach_player (GstElement * player)
{
  std::lock_guard<std::mutex> guard (lock_);
  if (player_ == player) {
    gst_object_replace ((GstObject **) & player_, nullptr);
    downstream_flush_ = nullptr;
    player_notify_ = nullptr;
  }
}

void
Session::deliver_output_audio (const std::string & item_id, const guint8 * data, gsize size)
{
  bool have_player;
  {
    std::lock_guard<std::mutex> guard (lock_);
    have_player = player_ != nullptr;
  }
  if (!have_player)
    return;
  playout_.push (item_id, data, size);
  notify_player (PlayerNotice::kAudio);
}

void
Session::end_output_audio ()
{
  notify_player (PlayerNotice::kAudioDone);
}

void
Session::set_player_notify (GstElement * player, PlayerNotify notify)
{
  std::lock_guard<std::mutex> guard (lock_);
  if (player_ == player)
    player_notify_ = std::move (notify);
}

/* Called without the lock: the player pushes downstream from here, and
 * what is downstream may call back into the session. */
void
Session::notify_player (PlayerNotice notice)
{
  PlayerNotify notify;
  {
    std::lock_guard<std::mutex> guard (lock_);
    notify = player_notify_;
  }
  if (notify)
    notify (notice);
}

void
Session::set_downstream_flush (GstElement * player, DownstreamFlush flush)
{
  std::lock_guard<std::mutex> guard (lock_);
  if (player_ == player)
    downstream_flush_ = std::move (flush);
}

std::string
Session::next_event_id ()
{
  std::lock_guard<std::mutex> guard (lock_);
  return "vb_" + std::to_string (++event_counter_);
}

void
Session::send_audio (std::string message, guint audio_ms)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    outbox_.push_back ({std::move (message), audio_ms});
    outbox_audio_ms_ += audio_ms;
    /* While (re)connecting keep a bounded backlog; the oldest audio goes first. */
    while (!open_ && outbox_audio_ms_ > settings_.max_pending_ms) {
      auto it = outbox_.begin ();
      while (it != outbox_.end () && it->audio_ms == 0)
        ++it;
      if (it == outbox_.end ())
        break;
      outbox_audio_ms_ -= it->audio_ms;
      dropped_input_ms_ += it->audio_ms;
      outbox_.erase (it);
    }
    if (!open_ || flush_scheduled_)
      return;
    flush_scheduled_ = true;
  }
  auto self = shared_from_this ();
  IoThread::run ([self] { self->flush_outbox (); });
}

void
Session::queue_control (std::string message)
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    outbox_.push_back ({std::move (message), 0});
  }
  schedule_flush ();
}

void
Session::queue_response_create ()
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    std::string id = "vb_" + std::to_string (++event_counter_);
    outbox_.push_back ({encode_response_create (id), 0, true, id});
  }
  schedule_flush ();
}

void
Session::schedule_flush ()
{
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (flush_scheduled_)
      return;
    flush_scheduled_ = true;
  }
  auto self = shared_from_this ();
  IoThread::run ([self] { self->flush_outbox (); });
}

void
Session::end_of_input ()
{
  TurnDetection turn;
  AudioFormat format;
  {
    std::lock_guard<std::mutex> guard (lock_);
    turn = settings_.options.turn_detection;
    format = settings_.options.input_format;
  }
  if (turn.type == TurnDetectionType::kNone) {
    queue_control (encode_input_audio_commit (next_event_id ()));
    queue_response_create ();
    return;
  }
  /* With VAD the server ends turns itself: give it the silence a caller who
   * stopped talking would have produced, so a turn still open at the end of
   * the input is answered like any other. */
  guint ms = (turn.type == TurnDetectionType::kServerVad ? turn.silence_duration_ms : 1000) + 200;
  std::vector<guint8> silence (ms * audio_format_bytes_per_ms (format),
      audio_format_silence_byte (format));
  send_audio (encode_input_audio_append (silence.data (), silence.size ()), ms);
}

void
Session::send_function_output (const std::string & call_id, const std::string & output)
{
  queue_control (encode_function_call_output (call_id, output, next_event_id ()));
  queue_response_create ();
}

void
Session::send_text (const std::string & text)
{
  queue_control (encode_user_text (text, next_event_id ()));
  queue_response_create ();
}

void
Session::create_response ()
{
  queue_response_create ();
}

void
Session::request_text_response (const std::string & instructions, const std::string & tag)
{
  /* Outside the conversation: never serialised behind the spoken answer. */
  queue_control (encode_text_response_create (instructions, tag, next_event_id ()));
}

/* ------------------------------------------------------------------ */
/* I/O thread                                                           */

void
Session::start_connect ()
{
  std::string ca_file, url, header, value;
  guint timeout_ms;
  {
    std::lock_guard<std::mutex> guard (lock_);
    ca_file = settings_.ca_file;
    url = endpoint_.url;
    header = endpoint_.auth_header;
    value = endpoint_.auth_value;
    timeout_ms = settings_.connect_timeout_ms;
  }
  state_ = State::kConnecting;
  ready_ = false;
  timed_out_ = false;
  connect_started_us_ = g_get_monotonic_time ();

  if (!ca_file.empty () && !tls_database_) {
    GError *err = nullptr;
    tls_database_ = g_tls_file_database_new (ca_file.c_str (), &err);
    if (!tls_database_) {
      connect_failed ("could not load ca-file " + ca_file, err, 0);
      g_error_free (err);
      return;
    }
  }
  WebSocketClient::Request request;
  request.url = url;
  if (!header.empty ())
    request.headers.emplace_back (header, value);
  request.headers.emplace_back ("User-Agent", "voxbridge/0.1");
  request.tls_database = tls_database_;
  request.max_message_size = kMaxIncomingPayload;

  g_clear_object (&cancellable_);
  cancellable_ = g_cancellable_new ();
  if (timeout_ms > 0) {
    timeout_source_ = g_timeout_source_new (timeout_ms);
    auto *ref = new SessionRef {shared_from_this ()};
    g_source_set_callback (timeout_source_, [] (gpointer data) -> gboolean {
          Session *self = static_cast<SessionRef *> (data)->session.get ();
          self->timed_out_ = true;
          g_cancellable_cancel (self->cancellable_);
          g_source_unref (self->timeout_source_);
          self->timeout_source_ = nullptr;
          return G_SOURCE_REMOVE;
        }, ref, [] (gpointer data) { delete static_cast<SessionRef *> (data); });
    g_source_attach (timeout_source_, IoThread::context ());
  }
  GST_INFO ("session %s: connecting to %s", name_.c_str (), url.c_str ());
  auto self = shared_from_this ();
  WebSocketClient::connect (request, cancellable_,
      [self] (std::shared_ptr<WebSocketClient> ws, guint status, const GError * error) {
        self->on_connected (std::move (ws), status, error);
      });
}

void
Session::on_connected (std::shared_ptr<WebSocketClient> ws, guint status, const GError * err)
{
  if (timeout_source_) {
    g_source_destroy (timeout_source_);
    g_source_unref (timeout_source_);
    timeout_source_ = nullptr;
  }
  if (state_ != State::kConnecting) {
    /* shut down while connecting */
    if (ws)
      ws->close (kWsCloseGoingAway);
    return;
  }
  if (!ws) {
    connect_failed ("", err, status);
    return;
  }
  ws_ = std::move (ws);
  ws_->set_handlers (
      [this] (const char * text, gsize size) { on_ws_message (text, size); },
      [this] (guint16 code, const std::string & reason) { on_ws_closed (code, reason); });
  ws_->set_keepalive (kKeepaliveSeconds);
  state_ = State::kOpen;
  open_ = true;
  GST_INFO ("session %s: connected", name_.c_str ());
  /* session.update goes before any queued audio so the format is right. */
  send_session_update ();
  flush_outbox ();
}

void
Session::connect_failed (const std::string & context, const GError * error, guint status)
{
  std::string url, reason;
  guint timeout_ms, attempts;
  {
    std::lock_guard<std::mutex> guard (lock_);
    url = endpoint_.url;
    timeout_ms = settings_.connect_timeout_ms;
    attempts = settings_.reconnect_attempts;
  }
  GQuark domain = GST_RESOURCE_ERROR;
  gint code = GST_RESOURCE_ERROR_OPEN_READ;
  if (!context.empty ()) {
    reason = context;
    code = GST_RESOURCE_ERROR_SETTINGS;
  } else if (timed_out_) {
    reason = "timed out after " + std::to_string (timeout_ms) + " ms";
  } else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
    reason = "the server rejected the credentials (HTTP " + std::to_string (status) + " "
        + soup_status_get_phrase (status) + "); check api-key / api-key-env and auth";
    code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  } else if (status >= 300) {
    reason = "the server refused the WebSocket upgrade (HTTP " + std::to_string (status) + " "
        + soup_status_get_phrase (status) + ")";
  } else if (error && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
    reason = "connection refused";
  } else if (error && error->domain == G_TLS_ERROR) {
    reason = std::string ("TLS failure: ") + error->message;
  } else if (error) {
    reason = error->message;
  } else {
    reason = "unknown failure";
  }
  state_ = State::kClosed;
  GST_WARNING ("session %s: connecting to %s failed: %s", name_.c_str (), url.c_str (),
      reason.c_str ());

  /* A first connection that fails is a configuration or reachability problem
   * the caller must not wait on; a reconnect follows the retry policy. */
  if (ever_ready_ && reconnects_ < attempts) {
    connection_lost ("reconnect failed: " + reason);
    return;
  }
  failed_ = true;
  GstStructure *s = gst_structure_new ("realtime-error", "type", G_TYPE_STRING, "connection",
      "code", G_TYPE_STRING, code == GST_RESOURCE_ERROR_NOT_AUTHORIZED ? "unauthorized" : "connect_failed",
      "message", G_TYPE_STRING, reason.c_str (), NULL);
  post (s);
  post_error (domain, code, "Could not connect to the AI at " + url + ": " + reason,
      error ? error->message : "");
}

void
Session::on_ws_message (const char * text, gsize size)
{
  std::string error;
  auto ev = decode_server_event (text, size, &error);
  if (!ev) {
    GST_WARNING ("session %s: ignoring a server message: %s", name_.c_str (), error.c_str ());
    return;
  }
  /* Keep the session alive while handlers post messages and send events. */
  auto keep = shared_from_this ();
  handle_event (*ev);
}

void
Session::on_ws_closed (guint16 code, const std::string & why)
{
  auto keep = shared_from_this ();
  std::string reason = "the AI server closed the connection";
  if (code)
    reason += " (code " + std::to_string (code) + (why.empty () ? "" : ": " + why) + ")";
  else if (!why.empty ())
    reason += " (" + why + ")";
  else
    reason += " without a close frame";
  GST_WARNING ("session %s: %s", name_.c_str (), reason.c_str ());
  drop_connection ();
  connection_lost (reason);
}

void
Session::drop_connection ()
{
  if (ws_) {
    ws_->clear_handlers ();
    ws_->close (kWsCloseNormal);
    ws_.reset ();
  }
  open_ = false;
  state_ = State::kClosed;
  response_active_ = false;
  response_requested_ = false;
  response_create_deferred_ = false;
  ready_ = false;
}

void
Session::connection_lost (const std::string & reason)
{
  guint attempts;
  {
    std::lock_guard<std::mutex> guard (lock_);
    attempts = settings_.reconnect_attempts;
  }
  bool retry = reconnects_ < attempts;
  post (gst_structure_new ("realtime-session-lost", "reason", G_TYPE_STRING, reason.c_str (),
          "reconnecting", G_TYPE_BOOLEAN, retry, NULL));
  if (!retry) {
    failed_ = true;
    post_error (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Lost the connection to the AI: " + reason
        + (attempts ? " (gave up after " + std::to_string (attempts) + " reconnect attempts)" : ""),
        "");
    return;
  }
  guint delay = kFirstRetryDelayMs << MIN (reconnects_, 5u);
  reconnects_++;
  post_warning ("Lost the connection to the AI: " + reason + "; reconnecting (attempt "
      + std::to_string (reconnects_) + " of " + std::to_string (attempts) + ")", "");
  if (retry_source_) {
    g_source_destroy (retry_source_);
    g_source_unref (retry_source_);
  }
  retry_source_ = g_timeout_source_new (delay);
  g_source_set_callback (retry_source_, [] (gpointer data) -> gboolean {
        Session *self = static_cast<SessionRef *> (data)->session.get ();
        g_source_unref (self->retry_source_);
        self->retry_source_ = nullptr;
        if (self->state_ == State::kClosed)
          self->start_connect ();
        return G_SOURCE_REMOVE;
      }, new SessionRef {shared_from_this ()},
      [] (gpointer data) { delete static_cast<SessionRef *> (data); });
  g_source_attach (retry_source_, IoThread::context ());
}

void
Session::send_now (const std::string & message)
{
  if (ws_ && ws_->is_open ())
    ws_->send_text (message.data (), message.size ());
}

void
Session::flush_outbox ()
{
  std::deque<Outgoing> batch;
  {
    std::lock_guard<std::mutex> guard (lock_);
    flush_scheduled_ = false;
    if (state_ != State::kOpen)
      return;
    batch.swap (outbox_);
    outbox_audio_ms_ = 0;
  }
  for (const auto & out : batch) {
    if (out.creates_response) {
      if (response_active_ || response_requested_) {
        response_create_deferred_ = true;
        continue;
      }
      response_requested_ = true;
      response_requested_event_id_ = out.event_id;
    }
    send_now (out.text);
  }
}

void
Session::send_session_update ()
{
  SessionOptions options;
  {
    std::lock_guard<std::mutex> guard (lock_);
    options = settings_.options;
    session_update_event_id_ = "vb_update_" + std::to_string (++event_counter_);
  }
  send_now (encode_session_update (options, session_update_event_id_));
}

void
Session::handle_event (ServerEvent & ev)
{
  GST_LOG ("session %s: %s", name_.c_str (), ev.type_name.c_str ());
  switch (ev.type) {
    case ServerEventType::kSessionCreated:
      GST_INFO ("session %s: server session %s (model %s)", name_.c_str (),
          ev.session_id.c_str (), ev.model.c_str ());
      break;
    case ServerEventType::kSessionUpdated:
      if (!ready_) {
        bool reconnected = ever_ready_;
        ready_ = ever_ready_ = true;
        reconnects_ = 0;
        /* connect-us: from opening the connection to the session
         * configured (TCP, TLS, upgrade, session.update answered). */
        post (gst_structure_new ("realtime-session-ready", "session-id", G_TYPE_STRING,
                ev.session_id.c_str (), "model", G_TYPE_STRING, ev.model.c_str (),
                "reconnected", G_TYPE_BOOLEAN, reconnected, "connect-us", G_TYPE_INT64,
                g_get_monotonic_time () - connect_started_us_, NULL));
      }
      break;
    case ServerEventType::kSpeechStarted: {
      /* mono-us: when the event reached us (CLOCK_MONOTONIC), to measure the
       * barge-in cut-off against the RTP on the wire. */
      post (gst_structure_new ("realtime-speech-started", "item-id", G_TYPE_STRING,
              ev.item_id.c_str (), "audio-start-ms", G_TYPE_UINT64, ev.audio_start_ms,
              "mono-us", G_TYPE_INT64, g_get_monotonic_time (), NULL));
      barge_in ();
      /* The caller talks: a response held back for the active one would
       * start while they speak. With a VAD that answers turns, the answer
       * to their turn sees the held-back items anyway. */
      bool vad_answers;
      {
        std::lock_guard<std::mutex> guard (lock_);
        const TurnDetection & turn = settings_.options.turn_detection;
        vad_answers = turn.type != TurnDetectionType::kNone && turn.create_response;
      }
      if (vad_answers)
        response_create_deferred_ = false;
      break;
    }
    case ServerEventType::kSpeechStopped:
      post (gst_structure_new ("realtime-speech-stopped", "item-id", G_TYPE_STRING,
              ev.item_id.c_str (), "audio-end-ms", G_TYPE_UINT64, ev.audio_end_ms, NULL));
      break;
    case ServerEventType::kResponseCreated:
      if (!ev.response_tag.empty ()) {
        /* Out-of-band (request_text_response): not the answer being
         * spoken, so nothing to cancel on barge-in. */
        post (gst_structure_new ("realtime-response-started", "response-id", G_TYPE_STRING,
                ev.response_id.c_str (), "tag", G_TYPE_STRING, ev.response_tag.c_str (), NULL));
        break;
      }
      response_active_ = true;
      response_requested_ = false;
      response_id_ = ev.response_id;
      post (gst_structure_new ("realtime-response-started", "response-id", G_TYPE_STRING,
              ev.response_id.c_str (), NULL));
      break;
    case ServerEventType::kResponseDone:
      if (ev.response_id == response_id_)
        response_active_ = false;
      responses_done_++;
      if (!response_active_ && response_create_deferred_) {
        response_create_deferred_ = false;
        response_requested_ = true;
        response_requested_event_id_ = next_event_id ();
        send_now (encode_response_create (response_requested_event_id_));
      }
      post (gst_structure_new ("realtime-response-done", "response-id", G_TYPE_STRING,
              ev.response_id.c_str (), "status", G_TYPE_STRING, ev.status.c_str (),
              "status-reason", G_TYPE_STRING, ev.status_reason.c_str (),
              "input-tokens", G_TYPE_INT64, ev.input_tokens,
              "output-tokens", G_TYPE_INT64, ev.output_tokens,
              "total-tokens", G_TYPE_INT64, ev.total_tokens, NULL));
      notify_player (PlayerNotice::kResponseDone);
      break;
    case ServerEventType::kOutputAudioDelta: {
      /* Deltas of a response we cancelled can still be in flight: drop them. */
      if (!cancelled_response_id_.empty () && ev.response_id == cancelled_response_id_)
        break;
      deliver_output_audio (ev.item_id, ev.audio.data (), ev.audio.size ());
      break;
    }
    case ServerEventType::kOutputAudioTranscriptDelta:
    case ServerEventType::kOutputAudioTranscriptDone:
      post (gst_structure_new ("realtime-output-transcript", "response-id", G_TYPE_STRING,
              ev.response_id.c_str (), "item-id", G_TYPE_STRING, ev.item_id.c_str (),
              "text", G_TYPE_STRING, ev.text.c_str (), "final", G_TYPE_BOOLEAN,
              ev.type == ServerEventType::kOutputAudioTranscriptDone, NULL));
      break;
    case ServerEventType::kOutputTextDelta:
    case ServerEventType::kOutputTextDone:
      post (gst_structure_new ("realtime-output-text", "response-id", G_TYPE_STRING,
              ev.response_id.c_str (), "item-id", G_TYPE_STRING, ev.item_id.c_str (),
              "text", G_TYPE_STRING, ev.text.c_str (), "final", G_TYPE_BOOLEAN,
              ev.type == ServerEventType::kOutputTextDone, NULL));
      break;
    case ServerEventType::kInputTranscriptionDelta:
    case ServerEventType::kInputTranscriptionCompleted:
      post (gst_structure_new ("realtime-input-transcript", "item-id", G_TYPE_STRING,
              ev.item_id.c_str (), "text", G_TYPE_STRING, ev.text.c_str (),
              "final", G_TYPE_BOOLEAN,
              ev.type == ServerEventType::kInputTranscriptionCompleted, NULL));
      break;
    case ServerEventType::kFunctionCallArgumentsDone:
      post (gst_structure_new ("realtime-function-call", "call-id", G_TYPE_STRING,
              ev.call_id.c_str (), "name", G_TYPE_STRING, ev.name.c_str (),
              "arguments", G_TYPE_STRING, ev.arguments.c_str (), NULL));
      break;
    case ServerEventType::kItemTruncated:
      post (gst_structure_new ("realtime-truncated", "item-id", G_TYPE_STRING,
              ev.item_id.c_str (), "audio-end-ms", G_TYPE_UINT64, ev.audio_end_ms, NULL));
      break;
    case ServerEventType::kRateLimitsUpdated: {
      GstStructure *s = gst_structure_new_empty ("realtime-rate-limits");
      for (const auto & l : ev.rate_limits) {
        gst_structure_set (s, (l.name + "-limit").c_str (), G_TYPE_INT64, l.limit,
            (l.name + "-remaining").c_str (), G_TYPE_INT64, l.remaining,
            (l.name + "-reset-seconds").c_str (), G_TYPE_DOUBLE, l.reset_seconds, NULL);
      }
      post (s);
      break;
    }
    case ServerEventType::kInputTranscriptionFailed:
    case ServerEventType::kError: {
      /* A refused response.create must not hold back the next one. */
      if (ev.error_code == "conversation_already_has_active_response"
          || (!ev.error_event_id.empty () && ev.error_event_id == response_requested_event_id_))
        response_requested_ = false;
      if (ev.error_code == "response_cancel_not_active" && cancel_in_flight_) {
        /* The server's own VAD had already cancelled the response. */
        cancel_in_flight_ = false;
        GST_DEBUG ("session %s: response already cancelled by the server", name_.c_str ());
        break;
      }
      post (gst_structure_new ("realtime-error", "type", G_TYPE_STRING, ev.error_type.c_str (),
              "code", G_TYPE_STRING, ev.error_code.c_str (), "message", G_TYPE_STRING,
              ev.error_message.c_str (), "param", G_TYPE_STRING, ev.error_param.c_str (),
              "event-id", G_TYPE_STRING, ev.error_event_id.c_str (), NULL));
      std::string text = "The AI reported an error: " + ev.error_message
          + (ev.error_code.empty () ? "" : " (" + ev.error_code + ")");
      if (!ev.error_event_id.empty () && ev.error_event_id == session_update_event_id_ && !ready_) {
        /* The configuration itself was refused: nothing will work. */
        failed_ = true;
        post_error (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "The AI rejected the session settings: " + ev.error_message,
            "param: " + ev.error_param);
      } else {
        post_warning (text, "param: " + ev.error_param);
      }
      break;
    }
    case ServerEventType::kOutputAudioDone:
      end_output_audio ();
      break;
    case ServerEventType::kInputCommitted:
    case ServerEventType::kOther:
      break;
  }
}

void
Session::barge_in ()
{
  bool enabled;
  {
    std::lock_guard<std::mutex> guard (lock_);
    enabled = settings_.barge_in;
  }
  if (!enabled)
    return;
  PlayoutQueue::FlushResult r = playout_.flush ();
  bool cancelled = false;
  if (response_active_) {
    cancelled_response_id_ = response_id_;
    cancel_in_flight_ = true;
    send_now (encode_response_cancel (next_event_id ()));
    cancelled = true;
  }
  /* Audio of the item may already be downstream of realtimesrc (queues, the
   * RTP pacer): the player flushes it and counts what reached the caller,
   * then finish_barge_in() truncates. */
  DownstreamFlush flush;
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (r.had_audio && downstream_flush_) {
      barge_in_pending_ = true;
      pending_flush_ = r;
      pending_cancelled_ = cancelled;
      flush = downstream_flush_;
    }
  }
  /* Without the lock: the player flushes right here and then calls
   * finish_barge_in(). */
  if (flush) {
    flush (r.item_id);
    return;
  }
  truncate_after_barge_in (r, cancelled, -1, true);
}

void
Session::finish_barge_in (const std::string & item_id, gint64 sent_ms)
{
  PlayoutQueue::FlushResult r;
  bool cancelled;
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (!barge_in_pending_ || pending_flush_.item_id != item_id)
      return;
    barge_in_pending_ = false;
    r = pending_flush_;
    cancelled = pending_cancelled_;
  }
  truncate_after_barge_in (r, cancelled, sent_ms, false);
}

/* Tells the model how much of its answer the caller really heard: @sent_ms
 * counted where RTP leaves (siprtpsink), else (-1) what left realtimesrc;
 * never more than it sent (the API rejects that). Nothing to do if it all
 * played out. @now: on the session's thread, else queued to it. */
void
Session::truncate_after_barge_in (const PlayoutQueue::FlushResult & r, bool cancelled,
    gint64 sent_ms, bool now)
{
  guint bytes_per_ms;
  {
    std::lock_guard<std::mutex> guard (lock_);
    bytes_per_ms = output_bytes_per_ms_;
  }
  guint64 audio_end_ms = r.played_bytes / bytes_per_ms;
  if (sent_ms >= 0)
    audio_end_ms = MIN (audio_end_ms, (guint64) sent_ms);
  bool truncate = r.had_audio &&
      (audio_end_ms * bytes_per_ms < r.received_bytes || cancelled);
  /* What never reached the caller: still queued here, or flushed downstream
   * (realtimesrc passes audio on as it comes; siprtpsink holds it). */
  guint64 dropped_bytes = r.dropped_bytes;
  if (sent_ms >= 0 && r.played_bytes > audio_end_ms * bytes_per_ms)
    dropped_bytes += r.played_bytes - audio_end_ms * bytes_per_ms;
  if (truncate) {
    std::string message = encode_item_truncate (r.item_id, 0, audio_end_ms, next_event_id ());
    if (now)
      send_now (message);
    else
      queue_control (std::move (message));
  }
  if (truncate || cancelled || dropped_bytes > 0) {
    post (gst_structure_new ("realtime-barge-in", "item-id", G_TYPE_STRING, r.item_id.c_str (),
            "audio-end-ms", G_TYPE_UINT64, truncate ? audio_end_ms : (guint64) 0,
            "truncated", G_TYPE_BOOLEAN, truncate,
            "dropped-ms", G_TYPE_UINT64, (guint64) (dropped_bytes / bytes_per_ms),
            "cancelled", G_TYPE_BOOLEAN, cancelled,
            "counted-at", G_TYPE_STRING, sent_ms >= 0 ? "wire" : "realtimesrc", NULL));
  }
}

void
Session::shutdown ()
{
  state_ = State::kIdle;
  if (cancellable_)
    g_cancellable_cancel (cancellable_);
  if (timeout_source_) {
    g_source_destroy (timeout_source_);
    g_clear_pointer (&timeout_source_, g_source_unref);
  }
  if (retry_source_) {
    g_source_destroy (retry_source_);
    g_clear_pointer (&retry_source_, g_source_unref);
  }
  if (ws_) {
    /* The connection finishes its close handshake on its own. */
    ws_->clear_handlers ();
    ws_->close (kWsCloseNormal);
    ws_.reset ();
  }
  open_ = false;
  {
    std::lock_guard<std::mutex> guard (lock_);
    if (dropped_input_ms_ > 0)
      GST_WARNING ("session %s: %" G_GUINT64_FORMAT " ms of caller audio were dropped while "
          "not connected", name_.c_str (), dropped_input_ms_);
    outbox_.clear ();
    gst_object_replace ((GstObject **) & owner_, nullptr);
    gst_object_replace ((GstObject **) & player_, nullptr);
  }
  GST_INFO ("session %s: closed", name_.c_str ());
}

/* ------------------------------------------------------------------ */
/* Bus messages                                                         */

GstElement *
Session::poster ()
{
  std::lock_guard<std::mutex> guard (lock_);
  GstElement *e = owner_ ? owner_ : player_;
  return e ? GST_ELEMENT (gst_object_ref (e)) : nullptr;
}

void
Session::post (GstStructure * s)
{
  gst_structure_set (s, "session", G_TYPE_STRING, name_.c_str (), NULL);
  GstElement *e = poster ();
  if (!e) {
    gst_structure_free (s);
    return;
  }
  gst_element_post_message (e, gst_message_new_element (GST_OBJECT (e), s));
  gst_object_unref (e);
}

void
Session::post_error (GQuark domain, gint code, const std::string & text, const std::string & debug)
{
  GstElement *e = poster ();
  if (!e)
    return;
  gst_element_message_full (e, GST_MESSAGE_ERROR, domain, code, g_strdup (text.c_str ()),
      debug.empty () ? nullptr : g_strdup (debug.c_str ()), __FILE__, GST_FUNCTION, __LINE__);
  gst_object_unref (e);
}

void
Session::post_warning (const std::string & text, const std::string & debug)
{
  GstElement *e = poster ();
  if (!e)
    return;
  gst_element_message_full (e, GST_MESSAGE_WARNING, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      g_strdup (text.c_str ()), debug.empty () ? nullptr : g_strdup (debug.c_str ()),
      __FILE__, GST_FUNCTION, __LINE__);
  gst_object_unref (e);
}

}  // namespace voxbridge::realtime
