#include "session.h"

#include <algorithm>

namespace voxbridge::sim {

/* The real service accepts events up to 15 MiB (large audio appends). */
constexpr guint64 kMaxIncomingPayload = 16 * 1024 * 1024;
/* Without turn detection the buffer only grows until a commit; bound it. */
constexpr uint64_t kMaxBufferedSamples = static_cast<uint64_t> (kCanonicalRate) * 60 * 15;
constexpr int64_t kMinCommitMs = 100;
constexpr size_t kMaxItems = 1000;

static int64_t
samples_to_ms (uint64_t samples)
{
  return static_cast<int64_t> (samples * 1000 / kCanonicalRate);
}

static uint64_t
ms_to_samples (int64_t ms)
{
  return ms <= 0 ? 0 : static_cast<uint64_t> (ms) * kCanonicalRate / 1000;
}

Session::Session (const SessionEnv &env, std::shared_ptr<realtime::WsConnection> connection,
    const std::string &model, ClosedCallback closed_callback)
    : env_ (env),
      connection_ (std::move (connection)),
      on_closed_ (std::move (closed_callback)),
      replies_ (env.options->replies),
      function_call_pending_ (env.options->function_call.has_value ())
{
  config_.id = new_id ("sess");
  config_.model = model;
  connection_->set_max_message_size (kMaxIncomingPayload);
  if (env_.timing_log)
    env_.timing_log->session_event (config_.id, "open", monotonic_ns ());
  connection_->set_handlers (
      [this] (const char *data, gsize len) { on_message (false, data, len); },
      /* May delete this: nothing may touch it afterwards. */
      [this] (guint16 code, const std::string &reason) {
        /* Our side gave up on the connection (the client stopped
         * reading, a read or write failed; code 0): say why, as nothing
         * else will. */
        if (code == 0 && !reason.empty ())
          g_printerr ("voxbridge-realtime-sim: dropping session %s: %s\n",
              config_.id.c_str (), reason.c_str ());
        on_closed_ (this);
      },
      [this] (const char *data, gsize len) { on_message (true, data, len); });

  SessionConfig defaults;
  apply_audio_settings (defaults);

  JsonObject *created = json_object_new ();
  json_object_set_string_member (created, "type", "session.created");
  json_object_set_object_member (created, "session", session_to_json (config_));
  send (created);
}

Session::~Session ()
{
  alive_.reset ();
  if (env_.timing_log)
    env_.timing_log->session_event (config_.id, "close", monotonic_ns ());
  if (response_ && response_->timer)
    g_source_remove (response_->timer);
  connection_->clear_handlers ();
  connection_->close (realtime::kWsCloseGoingAway);
}

void
Session::close ()
{
  connection_->close (realtime::kWsCloseGoingAway, "server shutting down");
}

void
Session::on_message (bool binary, const char *data, size_t len)
{
  if (env_.timing_log)
    message_arrival_ns_ = monotonic_ns ();
  if (binary) {
    send_error ({"invalid_event", "Binary WebSocket messages are not supported; "
                                  "send JSON events as text messages.", ""},
        std::nullopt);
    return;
  }
  handle_text (data ? data : "", len);
}

void
Session::send (JsonObject *event)
{
  json_object_set_string_member (event, "event_id", new_id ("event").c_str ());
  JsonNode *node = node_from_object (event);
  if (connection_->is_open ()) {
    std::string text = json_to_compact_string (node);
    if (env_.options->verbose)
      g_printerr ("[%s] -> %s\n", config_.id.c_str (),
          text.size () > 300 ? (text.substr (0, 300) + "...").c_str () : text.c_str ());
    connection_->send_text (text.data (), text.size ());
  }
  json_node_unref (node);
}

void
Session::send_error (const ProtocolError &error, const std::optional<std::string> &client_event_id)
{
  stats_.errors++;
  send (make_error_event (error, client_event_id));
}

void
Session::handle_text (const char *data, size_t len)
{
  ClientEvent event;
  ProtocolError error;
  if (!parse_client_event (data, len, &event, &error)) {
    send_error (error, event.event_id);
    return;
  }
  if (env_.options->verbose)
    g_printerr ("[%s] <- %s\n", config_.id.c_str (), event.type.c_str ());

  using Handler = bool (Session::*) (JsonObject *, ProtocolError *);
  static const std::pair<const char *, Handler> handlers[] = {
    {"session.update", &Session::on_session_update},
    {"input_audio_buffer.append", &Session::on_audio_append},
    {"input_audio_buffer.commit", &Session::on_audio_commit},
    {"input_audio_buffer.clear", &Session::on_audio_clear},
    {"conversation.item.create", &Session::on_item_create},
    {"conversation.item.truncate", &Session::on_item_truncate},
    {"conversation.item.delete", &Session::on_item_delete},
    {"response.create", &Session::on_response_create},
    {"response.cancel", &Session::on_response_cancel},
  };
  for (const auto &[type, handler] : handlers) {
    if (event.type == type) {
      if (!(this->*handler) (event.object, &error))
        send_error (error, event.event_id);
      return;
    }
  }
  send_error ({"invalid_value",
      "Invalid value: '" + event.type + "'. Supported values are: 'session.update', "
      "'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', "
      "'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', "
      "'response.create', and 'response.cancel'.", "type"},
      event.event_id);
}

/* ---- session.update ---- */

bool
Session::on_session_update (JsonObject *event, ProtocolError *error)
{
  JsonObject *session;
  if (!get_object (event, "session", "session", true, &session, nullptr, error))
    return false;
  SessionConfig old_config (config_);
  if (!apply_session_update (&config_, session, error))
    return false;
  apply_audio_settings (old_config);
  if (env_.timing_log)
    env_.timing_log->instructions (config_.id, message_arrival_ns_, config_.instructions);

  JsonObject *updated = json_object_new ();
  json_object_set_string_member (updated, "type", "session.updated");
  json_object_set_object_member (updated, "session", session_to_json (config_));
  if (env_.timing_log)
    env_.timing_log->session_event (config_.id, "updated", monotonic_ns ());
  send (updated);
  return true;
}

/* Rebuilds the decoder / VAD when the settings they depend on changed. */
void
Session::apply_audio_settings (const SessionConfig &old_config)
{
  if (!decoder_ || old_config.input_format != config_.input_format)
    decoder_ = std::make_unique<AudioDecoder> (config_.input_format);

  const TurnDetection &td = config_.turn_detection;
  const TurnDetection &old_td = old_config.turn_detection;
  bool changed = !vad_ || td.type != old_td.type || td.threshold != old_td.threshold ||
      td.prefix_padding_ms != old_td.prefix_padding_ms ||
      td.effective_silence_ms () != old_td.effective_silence_ms ();
  if (!changed)
    return;
  if (td.type == TurnDetection::Type::kNone) {
    vad_.reset ();
    vad_offset_ms_ = 0;
  } else {
    VadSettings settings {td.threshold, td.prefix_padding_ms, td.effective_silence_ms ()};
    if (td.type == TurnDetection::Type::kSemanticVad)
      settings = VadSettings {0.5, 300, td.effective_silence_ms ()};
    vad_ = std::make_unique<EnergyVad> (settings, kCanonicalRate);
    vad_offset_ms_ = input_position_ms ();
  }
  speech_item_id_.clear ();
}

/* ---- input audio ---- */

int64_t
Session::input_position_ms () const
{
  return samples_to_ms (input_samples_total_);
}

bool
Session::on_audio_append (JsonObject *event, ProtocolError *error)
{
  std::optional<std::string> audio;
  if (!get_string (event, "audio", "audio", true, &audio, error))
    return false;
  gsize len = 0;
  guchar *raw = g_base64_decode (audio->c_str (), &len);
  /* g_base64_decode skips invalid characters; insist on well-formed input. */
  bool well_formed = audio->size () % 4 == 0 &&
      audio->find_first_not_of (
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
          std::string::npos;
  if (!well_formed) {
    g_free (raw);
    *error = invalid_value ("audio", "Invalid 'audio'. Expected base64-encoded audio bytes.");
    return false;
  }
  stats_.appends++;
  stats_.bytes_in += len;
  if (env_.timing_log)
    env_.timing_log->audio (config_.id, "in", message_arrival_ns_, stats_.bytes_in - len, raw, len);

  std::vector<int16_t> samples = decoder_->decode (raw, len);
  if (env_.options->behaviour == Behaviour::kEcho)
    echo_append (raw, len, samples);
  g_free (raw);
  process_input_audio (samples);
  return true;
}

void
Session::process_input_audio (const std::vector<int16_t> &samples)
{
  input_buffer_.insert (input_buffer_.end (), samples.begin (), samples.end ());
  input_samples_total_ += samples.size ();

  if (vad_) {
    /* Events may cancel/start responses, so handle them one by one. */
    for (const VadEvent &ev : vad_->process (samples.data (), samples.size ())) {
      if (ev.kind == VadEvent::Kind::kSpeechStarted)
        on_speech_started (vad_offset_ms_ + ev.audio_ms);
      else
        on_speech_stopped (vad_offset_ms_ + ev.audio_ms, ev.speech_ms);
      if (!vad_)
        break;
    }
  }

  /* Keep what a commit can still need: with VAD outside speech only the
   * prefix padding, otherwise everything up to a bound. */
  uint64_t keep = kMaxBufferedSamples;
  if (vad_ && !vad_->in_speech ())
    keep = ms_to_samples (config_.turn_detection.prefix_padding_ms + 2 * EnergyVad::kFrameMs *
        EnergyVad::kStartFrames);
  if (input_buffer_.size () > keep) {
    size_t drop = input_buffer_.size () - keep;
    input_buffer_.erase (input_buffer_.begin (), input_buffer_.begin () + drop);
    input_buffer_start_ += drop;
  }
}

void
Session::on_speech_started (int64_t audio_start_ms)
{
  speech_item_id_ = new_id ("item");
  speech_start_ms_ = audio_start_ms;
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "type", "input_audio_buffer.speech_started");
  json_object_set_int_member (ev, "audio_start_ms", audio_start_ms);
  json_object_set_string_member (ev, "item_id", speech_item_id_.c_str ());
  send (ev);
  if (env_.timing_log)
    env_.timing_log->session_event (config_.id, "speech_started", monotonic_ns ());

  /* Barge-in, as the service does. Echo mode never lets VAD touch responses. */
  if (response_ && config_.turn_detection.interrupt_response &&
      env_.options->behaviour != Behaviour::kEcho)
    finish_response ("cancelled", "turn_detected");
}

void
Session::on_speech_stopped (int64_t audio_end_ms, int64_t speech_ms)
{
  std::string item_id = speech_item_id_.empty () ? new_id ("item") : speech_item_id_;
  speech_item_id_.clear ();
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "type", "input_audio_buffer.speech_stopped");
  json_object_set_int_member (ev, "audio_end_ms", audio_end_ms);
  json_object_set_string_member (ev, "item_id", item_id.c_str ());
  send (ev);

  commit_input (item_id, speech_start_ms_, audio_end_ms, speech_ms);

  if (!config_.turn_detection.create_response || env_.options->behaviour == Behaviour::kEcho)
    return;
  if (response_) {
    /* interrupt_response false and a response still running: the new turn
     * waits for an explicit response.create. */
    if (env_.options->verbose)
      g_printerr ("[%s] turn %s not answered: response %s in progress\n", config_.id.c_str (),
          item_id.c_str (), response_->id.c_str ());
    return;
  }
  start_response (plan_reply (config_.text_output));
}

/* Moves [start_ms, end_ms) of the input buffer into a user audio item. */
void
Session::commit_input (const std::string &item_id, int64_t start_ms, int64_t end_ms,
    int64_t speech_ms)
{
  uint64_t start = std::max (ms_to_samples (start_ms), input_buffer_start_);
  uint64_t end = std::min (ms_to_samples (end_ms), input_buffer_start_ + input_buffer_.size ());
  Item item;
  item.id = item_id;
  item.kind = Item::Kind::kUserAudio;
  item.speech_ms = speech_ms;
  if (end > start)
    item.audio.assign (input_buffer_.begin () + (start - input_buffer_start_),
        input_buffer_.begin () + (end - input_buffer_start_));
  /* What follows the commit point stays for the next turn. */
  uint64_t consumed = std::max (end, input_buffer_start_) - input_buffer_start_;
  input_buffer_.erase (input_buffer_.begin (), input_buffer_.begin () + consumed);
  input_buffer_start_ += consumed;

  if (config_.transcription_model)
    item.transcript = speech_placeholder_transcript (speech_ms);

  std::optional<std::string> previous = last_item_id ();
  JsonObject *committed = json_object_new ();
  json_object_set_string_member (committed, "type", "input_audio_buffer.committed");
  json_object_set_member (committed, "previous_item_id", string_or_null (previous));
  json_object_set_string_member (committed, "item_id", item_id.c_str ());
  send (committed);

  std::optional<std::string> transcript = item.transcript;
  add_item (std::move (item), std::nullopt);

  if (transcript) {
    JsonObject *delta = json_object_new ();
    json_object_set_string_member (delta, "type",
        "conversation.item.input_audio_transcription.delta");
    json_object_set_string_member (delta, "item_id", item_id.c_str ());
    json_object_set_int_member (delta, "content_index", 0);
    json_object_set_string_member (delta, "delta", transcript->c_str ());
    send (delta);

    JsonObject *usage = json_object_new ();
    json_object_set_string_member (usage, "type", "duration");
    json_object_set_double_member (usage, "seconds", static_cast<double> (speech_ms) / 1000.0);
    JsonObject *completed = json_object_new ();
    json_object_set_string_member (completed, "type",
        "conversation.item.input_audio_transcription.completed");
    json_object_set_string_member (completed, "item_id", item_id.c_str ());
    json_object_set_int_member (completed, "content_index", 0);
    json_object_set_string_member (completed, "transcript", transcript->c_str ());
    json_object_set_object_member (completed, "usage", usage);
    send (completed);
  }
}

bool
Session::on_audio_commit (JsonObject *event, ProtocolError *error)
{
  int64_t buffered_ms = samples_to_ms (input_buffer_.size ());
  if (buffered_ms < kMinCommitMs) {
    *error = {"input_audio_buffer_commit_empty",
        "Error committing input audio buffer: buffer too small. Expected at least " +
            std::to_string (kMinCommitMs) + "ms of audio, but buffer only has " +
            std::to_string (buffered_ms) + "ms of audio.", ""};
    return false;
  }
  std::string item_id = speech_item_id_.empty () ? new_id ("item") : speech_item_id_;
  speech_item_id_.clear ();
  if (vad_)
    vad_->reset_speech ();
  int64_t start_ms = samples_to_ms (input_buffer_start_);
  int64_t end_ms = input_position_ms ();
  commit_input (item_id, start_ms, end_ms, end_ms - start_ms);
  return true;
}

bool
Session::on_audio_clear (JsonObject *event, ProtocolError *error)
{
  input_buffer_start_ += input_buffer_.size ();
  input_buffer_.clear ();
  speech_item_id_.clear ();
  if (vad_)
    vad_->reset_speech ();
  JsonObject *cleared = json_object_new ();
  json_object_set_string_member (cleared, "type", "input_audio_buffer.cleared");
  send (cleared);
  return true;
}

/* ---- conversation ---- */

Item *
Session::find_item (const std::string &item_id)
{
  auto it = std::find_if (items_.begin (), items_.end (),
      [&item_id] (const Item &item) { return item.id == item_id; });
  return it == items_.end () ? nullptr : &*it;
}

std::optional<std::string>
Session::last_item_id () const
{
  if (items_.empty ())
    return std::nullopt;
  return items_.back ().id;
}

/* Appends (or inserts after @previous_item_id; "root" = first) and announces
 * the item with conversation.item.added / .done. */
void
Session::add_item (Item item, const std::optional<std::string> &previous_item_id)
{
  /* Only the newest user audio is kept for parrot playback. */
  if (item.kind == Item::Kind::kUserAudio)
    for (Item &old : items_)
      std::vector<int16_t> ().swap (old.audio);
  if (items_.size () >= kMaxItems)
    items_.erase (items_.begin ());

  auto pos = items_.end ();
  if (previous_item_id && *previous_item_id == "root") {
    pos = items_.begin ();
  } else if (previous_item_id) {
    auto prev = std::find_if (items_.begin (), items_.end (),
        [&previous_item_id] (const Item &i) { return i.id == *previous_item_id; });
    if (prev != items_.end ())
      pos = prev + 1;
  }
  std::optional<std::string> previous = pos == items_.begin ()
      ? std::nullopt
      : std::optional<std::string> ((pos - 1)->id);
  pos = items_.insert (pos, std::move (item));

  for (const char *type : {"conversation.item.added", "conversation.item.done"}) {
    JsonObject *ev = json_object_new ();
    json_object_set_string_member (ev, "type", type);
    json_object_set_member (ev, "previous_item_id", string_or_null (previous));
    json_object_set_object_member (ev, "item", item_to_json (*pos));
    send (ev);
  }
}

bool
Session::on_item_create (JsonObject *event, ProtocolError *error)
{
  JsonObject *obj;
  std::optional<std::string> previous, id, type;
  if (!get_string (event, "previous_item_id", "previous_item_id", false, &previous, error) ||
      !get_object (event, "item", "item", true, &obj, nullptr, error) ||
      !get_string (obj, "id", "item.id", false, &id, error) ||
      !get_string (obj, "type", "item.type", true, &type, error))
    return false;
  if (previous && *previous != "root" && !find_item (*previous)) {
    *error = invalid_value ("previous_item_id",
        "Invalid 'previous_item_id': no item with id '" + *previous + "' in the conversation.");
    return false;
  }
  if (id && find_item (*id)) {
    *error = invalid_value ("item.id", "Item with id '" + *id + "' already exists.");
    return false;
  }

  Item item;
  item.id = id ? *id : new_id ("item");
  if (*type == "message") {
    std::optional<std::string> role;
    if (!get_string (obj, "role", "item.role", true, &role, error))
      return false;
    if (*role == "user")
      item.kind = Item::Kind::kUserText;
    else if (*role == "system")
      item.kind = Item::Kind::kSystemText;
    else if (*role == "assistant")
      item.kind = Item::Kind::kAssistant;
    else {
      *error = invalid_value ("item.role", "Invalid value: '" + *role +
          "'. Supported values are: 'user', 'assistant', and 'system'.");
      return false;
    }
    JsonNode *content = json_object_get_member (obj, "content");
    if (!content) {
      *error = missing_parameter ("item.content");
      return false;
    }
    if (!JSON_NODE_HOLDS_ARRAY (content) || json_array_get_length (json_node_get_array (content)) == 0) {
      *error = invalid_value ("item.content", "Invalid 'item.content': expected a non-empty array.");
      return false;
    }
    JsonArray *parts = json_node_get_array (content);
    for (guint i = 0; i < json_array_get_length (parts); i++) {
      std::string path = "item.content[" + std::to_string (i) + "]";
      JsonNode *part_node = json_array_get_element (parts, i);
      if (!JSON_NODE_HOLDS_OBJECT (part_node)) {
        *error = invalid_type (path, "an object");
        return false;
      }
      JsonObject *part = json_node_get_object (part_node);
      std::optional<std::string> part_type, text, audio;
      if (!get_string (part, "type", path + ".type", true, &part_type, error))
        return false;
      bool user_like = item.kind != Item::Kind::kAssistant;
      if (user_like && *part_type == "input_text") {
        if (!get_string (part, "text", path + ".text", true, &text, error))
          return false;
        item.text += *text;
      } else if (item.kind == Item::Kind::kUserText && *part_type == "input_audio") {
        if (!get_string (part, "audio", path + ".audio", true, &audio, error))
          return false;
        gsize len = 0;
        guchar *raw = g_base64_decode (audio->c_str (), &len);
        AudioDecoder decoder (config_.input_format);
        std::vector<int16_t> samples = decoder.decode (raw, len);
        g_free (raw);
        item.kind = Item::Kind::kUserAudio;
        item.speech_ms = samples_to_ms (samples.size ());
        item.audio.insert (item.audio.end (), samples.begin (), samples.end ());
      } else if (!user_like && (*part_type == "output_text" || *part_type == "text")) {
        if (!get_string (part, "text", path + ".text", true, &text, error))
          return false;
        item.text += *text;
      } else {
        *error = invalid_value (path + ".type", "Invalid content type '" + *part_type +
            "' for a " + *role + " message.");
        return false;
      }
    }
  } else if (*type == "function_call_output") {
    std::optional<std::string> call_id, output;
    if (!get_string (obj, "call_id", "item.call_id", true, &call_id, error) ||
        !get_string (obj, "output", "item.output", true, &output, error))
      return false;
    bool known = std::any_of (items_.begin (), items_.end (), [&call_id] (const Item &i) {
      return i.kind == Item::Kind::kFunctionCall && i.call_id == *call_id;
    });
    if (!known) {
      *error = invalid_value ("item.call_id",
          "Invalid 'item.call_id': no function call with call_id '" + *call_id +
              "' in the conversation.");
      return false;
    }
    item.kind = Item::Kind::kFunctionCallOutput;
    item.call_id = *call_id;
    item.text = *output;
  } else if (*type == "function_call") {
    std::optional<std::string> call_id, name, arguments;
    if (!get_string (obj, "call_id", "item.call_id", true, &call_id, error) ||
        !get_string (obj, "name", "item.name", true, &name, error) ||
        !get_string (obj, "arguments", "item.arguments", false, &arguments, error))
      return false;
    item.kind = Item::Kind::kFunctionCall;
    item.call_id = *call_id;
    item.name = *name;
    item.arguments = arguments.value_or ("{}");
  } else {
    *error = invalid_value ("item.type", "Invalid value: '" + *type +
        "'. Supported values are: 'message', 'function_call', and 'function_call_output'.");
    return false;
  }

  add_item (std::move (item), previous);
  return true;
}

bool
Session::on_item_truncate (JsonObject *event, ProtocolError *error)
{
  std::optional<std::string> item_id;
  std::optional<int64_t> content_index, audio_end_ms;
  if (!get_string (event, "item_id", "item_id", true, &item_id, error) ||
      !get_int (event, "content_index", "content_index", true, &content_index, error) ||
      !get_int (event, "audio_end_ms", "audio_end_ms", true, &audio_end_ms, error))
    return false;
  Item *item = find_item (*item_id);
  if (!item) {
    *error = invalid_value ("item_id",
        "Invalid 'item_id': no item with id '" + *item_id + "' in the conversation.");
    return false;
  }
  if (item->kind != Item::Kind::kAssistant || !item->assistant_audio) {
    *error = invalid_value ("item_id",
        "Only assistant messages with audio content can be truncated.");
    return false;
  }
  if (*content_index != 0) {
    *error = invalid_value ("content_index", "Invalid 'content_index': the item has one "
                                             "content part, at index 0.");
    return false;
  }
  if (*audio_end_ms < 0) {
    *error = invalid_value ("audio_end_ms", "Invalid 'audio_end_ms': must be >= 0.");
    return false;
  }
  if (*audio_end_ms > item->audio_sent_ms) {
    *error = invalid_value ("audio_end_ms",
        "Audio content of " + std::to_string (item->audio_sent_ms) +
            "ms is already shorter than " + std::to_string (*audio_end_ms) + "ms");
    return false;
  }
  item->audio_sent_ms = *audio_end_ms;
  item->text.clear ();  /* the service drops the transcript of truncated audio */
  stats_.truncates++;

  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "type", "conversation.item.truncated");
  json_object_set_string_member (ev, "item_id", item_id->c_str ());
  json_object_set_int_member (ev, "content_index", *content_index);
  json_object_set_int_member (ev, "audio_end_ms", *audio_end_ms);
  send (ev);
  return true;
}

bool
Session::on_item_delete (JsonObject *event, ProtocolError *error)
{
  std::optional<std::string> item_id;
  if (!get_string (event, "item_id", "item_id", true, &item_id, error))
    return false;
  auto it = std::find_if (items_.begin (), items_.end (),
      [&item_id] (const Item &item) { return item.id == *item_id; });
  if (it == items_.end ()) {
    *error = invalid_value ("item_id",
        "Invalid 'item_id': no item with id '" + *item_id + "' in the conversation.");
    return false;
  }
  items_.erase (it);
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "type", "conversation.item.deleted");
  json_object_set_string_member (ev, "item_id", item_id->c_str ());
  send (ev);
  return true;
}

/* ---- responses (client side; production in session_response.cpp) ---- */

bool
Session::on_response_create (JsonObject *event, ProtocolError *error)
{
  JsonObject *params;
  if (!get_object (event, "response", "response", false, &params, nullptr, error))
    return false;
  bool text_output = config_.text_output;
  if (params && json_object_has_member (params, "output_modalities")) {
    SessionConfig probe;
    JsonObject *wrapper = json_object_new ();
    json_object_set_string_member (wrapper, "type", "realtime");
    json_object_set_member (wrapper, "output_modalities",
        json_node_copy (json_object_get_member (params, "output_modalities")));
    bool ok = apply_session_update (&probe, wrapper, error);
    json_object_unref (wrapper);
    if (!ok) {
      error->param = "response.output_modalities";
      return false;
    }
    text_output = probe.text_output;
  }
  std::optional<std::string> conversation;
  JsonObject *metadata = nullptr;
  if (params && (!get_string (params, "conversation", "response.conversation", false,
          &conversation, error) || !get_object (params, "metadata", "response.metadata", false,
          &metadata, nullptr, error)))
    return false;
  if (conversation && *conversation != "auto" && *conversation != "none") {
    *error = invalid_value ("response.conversation",
        "Invalid 'conversation': expected 'auto' or 'none'.");
    return false;
  }
  const bool out_of_band = conversation && *conversation == "none";
  if (response_) {
    *error = {"conversation_already_has_active_response",
        "Conversation already has an active response in progress: " + response_->id +
            ". Wait until the response is finished before creating a new one.", ""};
    return false;
  }
  Reply reply = out_of_band ? plan_out_of_band_reply () : plan_reply (text_output);
  if (out_of_band && !text_output)
    reply.kind = Reply::Kind::kSpeech;
  if (metadata)
    reply.metadata.reset (json_node_init_object (json_node_alloc (), metadata), json_node_unref);
  start_response (std::move (reply));
  return true;
}

bool
Session::on_response_cancel (JsonObject *event, ProtocolError *error)
{
  std::optional<std::string> response_id;
  if (!get_string (event, "response_id", "response_id", false, &response_id, error))
    return false;
  if (!response_ || (response_id && *response_id != response_->id)) {
    *error = {"response_cancel_not_active",
        "Cancellation failed: no active response found.", ""};
    return false;
  }
  finish_response ("cancelled", "client_cancelled");
  return true;
}

}  // namespace voxbridge::sim
