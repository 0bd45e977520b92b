/* Session: producing responses — planning what to say, the response event
 * sequence, paced audio deltas, cancellation, and echo mode. */

#include "session.h"

#include <algorithm>

namespace voxbridge::sim {

/* Rough token estimates for usage (the sim has no tokenizer): 4 characters
 * per text token, 10 input audio tokens and 20 output audio tokens per second. */
static int64_t
text_tokens (size_t chars)
{
  return static_cast<int64_t> ((chars + 3) / 4);
}

Session::Reply
Session::plan_reply (bool text_output)
{
  Item *turn = nullptr;
  for (auto it = items_.rbegin (); it != items_.rend (); ++it) {
    if (it->is_turn_input () && !it->answered) {
      turn = &*it;
      break;
    }
  }
  for (Item &item : items_)
    if (item.is_turn_input ())
      item.answered = true;

  Reply reply;
  reply.input_tokens = text_tokens (config_.instructions.size ());
  if (turn)
    reply.input_tokens += turn->kind == Item::Kind::kUserAudio ? turn->speech_ms / 100
                                                                : text_tokens (turn->text.size ());

  /* --function-call: the first user turn is answered with the call. */
  if (turn && function_call_pending_ && turn->kind != Item::Kind::kFunctionCallOutput) {
    function_call_pending_ = false;
    reply.kind = Reply::Kind::kFunctionCall;
    return reply;
  }

  reply.kind = text_output ? Reply::Kind::kText : Reply::Kind::kSpeech;
  if (!turn) {
    reply.transcript = replies_.reply_without_input ();
  } else if (turn->kind == Item::Kind::kUserText) {
    reply.transcript = ReplyBook::reply_to_text (turn->text);
  } else if (turn->kind == Item::Kind::kFunctionCallOutput) {
    reply.transcript = ReplyBook::reply_to_function_output (turn->text);
  } else if (env_.options->behaviour == Behaviour::kParrot && !text_output &&
      !turn->audio.empty ()) {
    reply.transcript = ReplyBook::parrot_transcript (turn->speech_ms);
    reply.audio = turn->audio;
  } else {
    reply.transcript = replies_.reply_to_speech (turn->speech_ms);
  }
  return reply;
}

Session::Reply
Session::plan_out_of_band_reply () const
{
  int caller_turns = 0, assistant_replies = 0;
  int64_t speech_ms = 0;
  std::string last_assistant;
  for (const Item &item : items_) {
    if (item.kind == Item::Kind::kUserAudio || item.kind == Item::Kind::kUserText) {
      caller_turns++;
      speech_ms += item.speech_ms;
    } else if (item.kind == Item::Kind::kAssistant) {
      assistant_replies++;
      if (!item.text.empty ())
        last_assistant = item.text;
    }
  }
  Reply reply;
  reply.kind = Reply::Kind::kText;
  reply.out_of_band = true;
  reply.input_tokens = text_tokens (config_.instructions.size ());
  reply.transcript = ReplyBook::out_of_band_reply (caller_turns, speech_ms, assistant_replies,
      last_assistant);
  return reply;
}

JsonObject *
Session::new_response_event (const char *type) const
{
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "type", type);
  json_object_set_string_member (ev, "response_id", response_->id.c_str ());
  json_object_set_string_member (ev, "item_id", response_->item_id.c_str ());
  json_object_set_int_member (ev, "output_index", 0);
  return ev;
}

JsonObject *
Session::response_object (const char *status, const char *reason) const
{
  const Response &r = *response_;
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "object", "realtime.response");
  json_object_set_string_member (obj, "id", r.id.c_str ());
  json_object_set_string_member (obj, "status", status);
  if (g_strcmp0 (status, "cancelled") == 0) {
    JsonObject *details = json_object_new ();
    json_object_set_string_member (details, "type", "cancelled");
    json_object_set_string_member (details, "reason", reason);
    json_object_set_object_member (obj, "status_details", details);
  } else if (g_strcmp0 (status, "failed") == 0) {
    JsonObject *err = json_object_new ();
    json_object_set_string_member (err, "type", "server_error");
    json_object_set_string_member (err, "code", "speech_synthesis_failed");
    json_object_set_string_member (err, "message", reason);
    JsonObject *details = json_object_new ();
    json_object_set_string_member (details, "type", "failed");
    json_object_set_object_member (details, "error", err);
    json_object_set_object_member (obj, "status_details", details);
  } else {
    json_object_set_null_member (obj, "status_details");
  }

  JsonArray *output = json_array_new ();
  auto item = std::find_if (items_.begin (), items_.end (),
      [&r] (const Item &i) { return i.id == r.item_id; });
  bool in_progress = g_strcmp0 (status, "in_progress") == 0;
  if (!in_progress && item != items_.end ())
    json_array_add_object_element (output, item_to_json (*item));
  json_object_set_array_member (obj, "output", output);
  json_object_set_string_member (obj, "conversation_id", ("conv_" + config_.id.substr (5)).c_str ());

  JsonArray *modalities = json_array_new ();
  json_array_add_string_element (modalities, r.kind == Response::Kind::kText ? "text" : "audio");
  json_object_set_array_member (obj, "output_modalities", modalities);
  JsonObject *audio_output = json_object_new ();
  json_object_set_member (audio_output, "format", audio_format_to_json (r.audio_format));
  json_object_set_string_member (audio_output, "voice", config_.voice.c_str ());
  JsonObject *audio = json_object_new ();
  json_object_set_object_member (audio, "output", audio_output);
  json_object_set_object_member (obj, "audio", audio);
  json_object_set_member (obj, "max_output_tokens", json_node_copy (config_.max_output_tokens.get ()));
  if (r.metadata)
    json_object_set_member (obj, "metadata", json_node_copy (r.metadata.get ()));
  else
    json_object_set_null_member (obj, "metadata");

  if (in_progress) {
    json_object_set_null_member (obj, "usage");
    return obj;
  }
  int64_t sent_ms = r.audio_format.bytes_per_ms () > 0
      ? bytes_to_ms (r.audio_pos, r.audio_format) : 0;
  int64_t out_audio = sent_ms / 50;
  int64_t out_text = text_tokens (r.kind == Response::Kind::kFunctionCall
          ? r.arguments.size ()
          : std::min (r.transcript_pos, r.transcript.size ()));
  JsonObject *in_details = json_object_new ();
  json_object_set_int_member (in_details, "text_tokens", r.input_tokens);
  json_object_set_int_member (in_details, "audio_tokens", 0);
  json_object_set_int_member (in_details, "cached_tokens", 0);
  JsonObject *out_details = json_object_new ();
  json_object_set_int_member (out_details, "text_tokens", out_text);
  json_object_set_int_member (out_details, "audio_tokens", out_audio);
  JsonObject *usage = json_object_new ();
  json_object_set_int_member (usage, "total_tokens", r.input_tokens + out_text + out_audio);
  json_object_set_int_member (usage, "input_tokens", r.input_tokens);
  json_object_set_int_member (usage, "output_tokens", out_text + out_audio);
  json_object_set_object_member (usage, "input_token_details", in_details);
  json_object_set_object_member (usage, "output_token_details", out_details);
  json_object_set_object_member (obj, "usage", usage);
  return obj;
}

void
Session::start_response (Reply reply)
{
  response_ = std::make_unique<Response> ();
  Response &r = *response_;
  r.id = new_id ("resp");
  r.item_id = new_id ("item");
  r.audio_format = config_.output_format;
  r.transcript = reply.transcript;
  r.input_tokens = reply.input_tokens;
  r.out_of_band = reply.out_of_band;
  r.metadata = reply.metadata;
  stats_.responses++;

  Item item;
  item.id = r.item_id;
  item.status = "in_progress";
  switch (reply.kind) {
    case Reply::Kind::kFunctionCall:
      r.kind = Response::Kind::kFunctionCall;
      r.call_id = new_id ("call");
      r.name = *env_.options->function_call;
      r.arguments = env_.options->function_args;
      item.kind = Item::Kind::kFunctionCall;
      item.call_id = r.call_id;
      item.name = r.name;
      break;
    case Reply::Kind::kText:
      r.kind = Response::Kind::kText;
      item.kind = Item::Kind::kAssistant;
      break;
    case Reply::Kind::kSpeech:
      r.kind = Response::Kind::kAudio;
      item.kind = Item::Kind::kAssistant;
      item.assistant_audio = true;
      break;
  }

  JsonObject *created = json_object_new ();
  json_object_set_string_member (created, "type", "response.created");
  json_object_set_object_member (created, "response", response_object ("in_progress", nullptr));
  send (created);

  if (items_.size () >= 1000)
    items_.erase (items_.begin ());
  if (!r.out_of_band)   /* conversation "none": outside the conversation */
    items_.push_back (item);
  JsonObject *added = json_object_new ();
  json_object_set_string_member (added, "type", "response.output_item.added");
  json_object_set_string_member (added, "response_id", r.id.c_str ());
  json_object_set_int_member (added, "output_index", 0);
  json_object_set_object_member (added, "item", item_to_json (item));
  send (added);

  if (r.kind == Response::Kind::kFunctionCall) {
    send_function_call_response ();
    return;
  }

  JsonObject *part = json_object_new ();
  bool audio = r.kind == Response::Kind::kAudio;
  json_object_set_string_member (part, "type", audio ? "audio" : "text");
  json_object_set_string_member (part, audio ? "transcript" : "text", "");
  JsonObject *part_added = new_response_event ("response.content_part.added");
  json_object_set_int_member (part_added, "content_index", 0);
  json_object_set_object_member (part_added, "part", part);
  send (part_added);

  if (!audio) {
    send_text_response ();
    return;
  }
  if (reply.audio) {
    r.audio = encode_all (*reply.audio, r.audio_format);
    begin_audio_playout ();
    return;
  }
  std::weak_ptr<int> alive = alive_;
  std::string response_id = r.id;
  env_.tts->synthesize (r.transcript, env_.context, [this, alive, response_id] (SharedAudio pcm) {
    if (alive.lock ())
      on_speech_ready (response_id, std::move (pcm));
  });
}

void
Session::on_speech_ready (const std::string &response_id, SharedAudio audio)
{
  if (!response_ || response_->id != response_id)
    return;  /* cancelled while synthesising */
  if (!audio) {
    finish_response ("failed", "espeak-ng could not synthesise the reply");
    return;
  }
  response_->audio = encode_all (*audio, response_->audio_format);
  begin_audio_playout ();
}

void
Session::begin_audio_playout ()
{
  response_->audio_ready = true;
  double pace = env_.options->pace;
  if (pace <= 0) {
    while (send_audio_delta ())
      ;
    finish_response ("completed", nullptr);
    return;
  }
  if (!send_audio_delta ()) {
    finish_response ("completed", nullptr);
    return;
  }
  guint interval = std::max (1u, static_cast<guint> (env_.options->delta_ms / pace));
  response_->timer = g_timeout_add (interval, on_pace_tick, this);
}

gboolean
Session::on_pace_tick (gpointer user_data)
{
  auto *self = static_cast<Session *> (user_data);
  if (self->send_audio_delta ())
    return G_SOURCE_CONTINUE;
  self->response_->timer = 0;
  self->finish_response ("completed", nullptr);
  return G_SOURCE_REMOVE;
}

/* Sends the next delta; false once all audio has gone out. */
bool
Session::send_audio_delta ()
{
  Response &r = *response_;
  if (r.audio_pos >= r.audio.size ())
    return false;
  size_t chunk_bytes = static_cast<size_t> (env_.options->delta_ms) * r.audio_format.bytes_per_ms ();
  size_t n = std::min (chunk_bytes, r.audio.size () - r.audio_pos);
  gchar *b64 = g_base64_encode (r.audio.data () + r.audio_pos, n);
  JsonObject *delta = new_response_event ("response.output_audio.delta");
  json_object_set_int_member (delta, "content_index", 0);
  json_object_set_string_member (delta, "delta", b64);
  g_free (b64);
  log_audio_out (r.audio.data () + r.audio_pos, n);   /* stamped before the send */
  send (delta);
  stats_.deltas_out++;
  r.audio_pos += n;
  if (Item *item = find_item (r.item_id))
    item->audio_sent_ms = bytes_to_ms (r.audio_pos, r.audio_format);

  /* The transcript advances with the audio, word by word. */
  send_transcript_delta (r.transcript.size () * r.audio_pos / r.audio.size ());
  return r.audio_pos < r.audio.size ();
}

void
Session::send_transcript_delta (size_t upto)
{
  Response &r = *response_;
  upto = std::min (upto, r.transcript.size ());
  if (upto <= r.transcript_pos)
    return;
  /* Cut after a space: whole words, never inside a UTF-8 sequence. */
  if (upto < r.transcript.size ()) {
    size_t space = r.transcript.find (' ', upto);
    upto = space == std::string::npos ? r.transcript.size () : space + 1;
  }
  JsonObject *delta = new_response_event ("response.output_audio_transcript.delta");
  json_object_set_int_member (delta, "content_index", 0);
  json_object_set_string_member (delta, "delta",
      r.transcript.substr (r.transcript_pos, upto - r.transcript_pos).c_str ());
  send (delta);
  r.transcript_pos = upto;
}

void
Session::send_text_response ()
{
  Response &r = *response_;
  /* Text is cheap: all deltas at once, a word each, like a fast model. */
  size_t pos = 0;
  while (pos < r.transcript.size ()) {
    size_t space = r.transcript.find (' ', pos);
    size_t end = space == std::string::npos ? r.transcript.size () : space + 1;
    JsonObject *delta = new_response_event ("response.output_text.delta");
    json_object_set_int_member (delta, "content_index", 0);
    json_object_set_string_member (delta, "delta", r.transcript.substr (pos, end - pos).c_str ());
    send (delta);
    pos = end;
  }
  r.transcript_pos = r.transcript.size ();
  if (Item *item = find_item (r.item_id))
    item->text = r.transcript;

  JsonObject *done = new_response_event ("response.output_text.done");
  json_object_set_int_member (done, "content_index", 0);
  json_object_set_string_member (done, "text", r.transcript.c_str ());
  send (done);
  JsonObject *part = json_object_new ();
  json_object_set_string_member (part, "type", "text");
  json_object_set_string_member (part, "text", r.transcript.c_str ());
  JsonObject *part_done = new_response_event ("response.content_part.done");
  json_object_set_int_member (part_done, "content_index", 0);
  json_object_set_object_member (part_done, "part", part);
  send (part_done);
  finish_response ("completed", nullptr);
}

void
Session::send_function_call_response ()
{
  Response &r = *response_;
  if (Item *item = find_item (r.item_id))
    item->arguments = r.arguments;
  JsonObject *delta = new_response_event ("response.function_call_arguments.delta");
  json_object_set_string_member (delta, "call_id", r.call_id.c_str ());
  json_object_set_string_member (delta, "delta", r.arguments.c_str ());
  send (delta);
  JsonObject *done = new_response_event ("response.function_call_arguments.done");
  json_object_set_string_member (done, "call_id", r.call_id.c_str ());
  json_object_set_string_member (done, "name", r.name.c_str ());
  json_object_set_string_member (done, "arguments", r.arguments.c_str ());
  send (done);
  finish_response ("completed", nullptr);
}

/* Ends the active response: closes its audio part (if any), the output item,
 * then response.done and rate_limits.updated. */
void
Session::finish_response (const char *status, const char *reason)
{
  if (!response_)
    return;
  Response &r = *response_;
  if (r.timer) {
    g_source_remove (r.timer);
    r.timer = 0;
  }
  bool completed = g_strcmp0 (status, "completed") == 0;
  Item *item = find_item (r.item_id);

  if (r.kind == Response::Kind::kAudio || r.kind == Response::Kind::kEcho) {
    if (r.kind == Response::Kind::kEcho)
      r.transcript = ReplyBook::echo_transcript (bytes_to_ms (r.audio_pos, r.audio_format));
    if (completed)
      send_transcript_delta (r.transcript.size ());
    std::string spoken = r.transcript.substr (0, r.transcript_pos);
    if (item)
      item->text = spoken;

    JsonObject *audio_done = new_response_event ("response.output_audio.done");
    json_object_set_int_member (audio_done, "content_index", 0);
    send (audio_done);
    JsonObject *transcript_done = new_response_event ("response.output_audio_transcript.done");
    json_object_set_int_member (transcript_done, "content_index", 0);
    json_object_set_string_member (transcript_done, "transcript", spoken.c_str ());
    send (transcript_done);
    JsonObject *part = json_object_new ();
    json_object_set_string_member (part, "type", "audio");
    json_object_set_string_member (part, "transcript", spoken.c_str ());
    JsonObject *part_done = new_response_event ("response.content_part.done");
    json_object_set_int_member (part_done, "content_index", 0);
    json_object_set_object_member (part_done, "part", part);
    send (part_done);
  }

  if (item) {
    item->status = completed ? "completed" : "incomplete";
    JsonObject *item_done = json_object_new ();
    json_object_set_string_member (item_done, "type", "response.output_item.done");
    json_object_set_string_member (item_done, "response_id", r.id.c_str ());
    json_object_set_int_member (item_done, "output_index", 0);
    json_object_set_object_member (item_done, "item", item_to_json (*item));
    send (item_done);
  }

  JsonObject *done = json_object_new ();
  json_object_set_string_member (done, "type", "response.done");
  json_object_set_object_member (done, "response", response_object (status, reason));
  send (done);
  if (g_strcmp0 (status, "cancelled") == 0)
    stats_.cancels++;
  response_.reset ();

  JsonArray *limits = json_array_new ();
  for (auto [name, limit] : {std::pair<const char *, gint64> {"requests", 5000},
           std::pair<const char *, gint64> {"tokens", 400000}}) {
    JsonObject *l = json_object_new ();
    json_object_set_string_member (l, "name", name);
    json_object_set_int_member (l, "limit", limit);
    json_object_set_int_member (l, "remaining", limit - 1);
    json_object_set_double_member (l, "reset_seconds", 0.012);
    json_array_add_object_element (limits, l);
  }
  JsonObject *rate = json_object_new ();
  json_object_set_string_member (rate, "type", "rate_limits.updated");
  json_object_set_array_member (rate, "rate_limits", limits);
  send (rate);
}

/* ---- echo behaviour ---- */

constexpr gint64 kEchoIdleEndUs = G_USEC_PER_SEC;

void
Session::echo_append (const uint8_t *raw, size_t len, const std::vector<int16_t> &canonical)
{
  if (response_ && response_->kind != Response::Kind::kEcho)
    return;  /* busy with a spoken reply (response.create); no echo meanwhile */
  if (!response_) {
    response_ = std::make_unique<Response> ();
    Response &r = *response_;
    r.id = new_id ("resp");
    r.item_id = new_id ("item");
    r.kind = Response::Kind::kEcho;
    r.audio_format = config_.output_format;
    stats_.responses++;

    JsonObject *created = json_object_new ();
    json_object_set_string_member (created, "type", "response.created");
    json_object_set_object_member (created, "response", response_object ("in_progress", nullptr));
    send (created);

    Item item;
    item.id = r.item_id;
    item.kind = Item::Kind::kAssistant;
    item.assistant_audio = true;
    item.status = "in_progress";
    items_.push_back (item);
    JsonObject *added = json_object_new ();
    json_object_set_string_member (added, "type", "response.output_item.added");
    json_object_set_string_member (added, "response_id", r.id.c_str ());
    json_object_set_int_member (added, "output_index", 0);
    json_object_set_object_member (added, "item", item_to_json (item));
    send (added);

    JsonObject *part = json_object_new ();
    json_object_set_string_member (part, "type", "audio");
    json_object_set_string_member (part, "transcript", "");
    JsonObject *part_added = new_response_event ("response.content_part.added");
    json_object_set_int_member (part_added, "content_index", 0);
    json_object_set_object_member (part_added, "part", part);
    send (part_added);

    r.timer = g_timeout_add (100, on_echo_idle_check, this);
  }

  Response &r = *response_;
  r.last_append_us = g_get_monotonic_time ();
  /* Same format in and out: the very bytes go back. Otherwise convert (the
   * input format may even change during the echo response). */
  bool passthrough = config_.input_format == r.audio_format;
  if (!passthrough && !r.echo_encoder)
    r.echo_encoder = std::make_unique<AudioEncoder> (r.audio_format);
  std::vector<uint8_t> converted;
  if (!passthrough)
    converted = r.echo_encoder->encode (canonical.data (), canonical.size ());
  const uint8_t *bytes = passthrough ? raw : converted.data ();
  size_t n = passthrough ? len : converted.size ();
  if (n == 0)
    return;
  gchar *b64 = g_base64_encode (bytes, n);
  JsonObject *delta = new_response_event ("response.output_audio.delta");
  json_object_set_int_member (delta, "content_index", 0);
  json_object_set_string_member (delta, "delta", b64);
  g_free (b64);
  /* Stamped as it goes to the socket, not after: the launcher may have
   * read it before send() returns. */
  log_audio_out (bytes, n);
  send (delta);
  stats_.deltas_out++;
  r.audio_pos += n;
  if (Item *item = find_item (r.item_id))
    item->audio_sent_ms = bytes_to_ms (r.audio_pos, r.audio_format);
}

void
Session::log_audio_out (const uint8_t *bytes, size_t n)
{
  if (env_.timing_log)
    env_.timing_log->audio (config_.id, "out", monotonic_ns (), audio_out_bytes_, bytes, n);
  audio_out_bytes_ += n;
}

gboolean
Session::on_echo_idle_check (gpointer user_data)
{
  auto *self = static_cast<Session *> (user_data);
  if (g_get_monotonic_time () - self->response_->last_append_us < kEchoIdleEndUs)
    return G_SOURCE_CONTINUE;
  self->response_->timer = 0;
  self->finish_response ("completed", nullptr);
  return G_SOURCE_REMOVE;
}

}  // namespace voxbridge::sim
