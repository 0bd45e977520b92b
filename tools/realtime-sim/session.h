#pragma once

/* One Realtime WebSocket session: the protocol state machine.
 *
 * Everything runs on the server's GMainContext (one thread); only speech
 * synthesis leaves it, and its result comes back as an idle source.
 * session.cpp handles client events, the conversation and input audio (VAD);
 * session_response.cpp produces responses and paces their audio. */

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <deque>
#include <vector>

#include <glib.h>

#include "audio_format.h"
#include "conversation.h"
#include "protocol.h"
#include "replies.h"
#include "session_config.h"
#include "sim_options.h"
#include "timing_log.h"
#include "tts.h"
#include "vad.h"
#include "websocket_connection.h"

namespace voxbridge::sim {

struct SessionStats {
  uint64_t appends = 0;
  uint64_t bytes_in = 0;
  uint64_t deltas_out = 0;
  uint64_t responses = 0;
  uint64_t cancels = 0;
  uint64_t truncates = 0;
  uint64_t errors = 0;
};

/* What all sessions of one server share. */
struct SessionEnv {
  const SimOptions *options;
  SpeechSynthesizer *tts;
  GMainContext *context;
  TimingLog *timing_log = nullptr;  /* --timing-log; nullptr = off */
};

class Session {
 public:
  using ClosedCallback = std::function<void (Session *)>;

  /* Handles @connection's messages and sends session.created. @closed_callback
   * runs once the connection is over; it may delete the Session. */
  Session (const SessionEnv &env, std::shared_ptr<realtime::WsConnection> connection,
      const std::string &model, ClosedCallback closed_callback);
  ~Session ();
  Session (const Session &) = delete;
  Session &operator= (const Session &) = delete;

  const std::string &id () const { return config_.id; }
  const SessionStats &stats () const { return stats_; }
  /* Starts a normal close (server shutdown); "closed" follows. */
  void close ();

 private:
  /* What a response is made of. */
  struct Reply {
    enum class Kind { kSpeech, kText, kFunctionCall };
    Kind kind = Kind::kSpeech;
    std::string transcript;
    std::optional<std::vector<int16_t>> audio;  /* set: play this, else synthesise */
    int64_t input_tokens = 0;
    bool out_of_band = false;    /* conversation "none": not added to the conversation */
    std::shared_ptr<JsonNode> metadata;   /* echoed in the response object */
  };

  struct Response {
    enum class Kind { kAudio, kText, kFunctionCall, kEcho };
    std::string id;
    Kind kind = Kind::kAudio;
    std::string item_id;
    std::string transcript;
    std::vector<uint8_t> audio;  /* encoded in audio_format */
    AudioFormat audio_format;
    size_t audio_pos = 0;        /* bytes sent so far */
    size_t transcript_pos = 0;   /* bytes of transcript sent so far */
    bool audio_ready = false;
    guint timer = 0;
    std::string call_id, name, arguments;
    int64_t input_tokens = 0;
    bool out_of_band = false;
    std::shared_ptr<JsonNode> metadata;
    /* echo */
    gint64 last_append_us = 0;
    std::unique_ptr<AudioEncoder> echo_encoder;
  };

  /* session.cpp: transport and dispatch */
  void on_message (bool binary, const char *data, size_t len);
  void handle_text (const char *data, size_t len);
  void send (JsonObject *event);  /* takes @event */
  void send_error (const ProtocolError &error, const std::optional<std::string> &client_event_id);

  /* session.cpp: client events; false + @error to reject the event */
  bool on_session_update (JsonObject *event, ProtocolError *error);
  bool on_audio_append (JsonObject *event, ProtocolError *error);
  bool on_audio_commit (JsonObject *event, ProtocolError *error);
  bool on_audio_clear (JsonObject *event, ProtocolError *error);
  bool on_item_create (JsonObject *event, ProtocolError *error);
  bool on_item_truncate (JsonObject *event, ProtocolError *error);
  bool on_item_delete (JsonObject *event, ProtocolError *error);
  bool on_response_create (JsonObject *event, ProtocolError *error);
  bool on_response_cancel (JsonObject *event, ProtocolError *error);

  /* session.cpp: conversation and input audio */
  void apply_audio_settings (const SessionConfig &old_config);
  void process_input_audio (const std::vector<int16_t> &samples);
  void on_speech_started (int64_t audio_start_ms);
  void on_speech_stopped (int64_t audio_end_ms, int64_t speech_ms);
  void commit_input (const std::string &item_id, int64_t start_ms, int64_t end_ms,
      int64_t speech_ms);
  void add_item (Item item, const std::optional<std::string> &previous_item_id);
  Item *find_item (const std::string &item_id);
  std::optional<std::string> last_item_id () const;
  int64_t input_position_ms () const;

  /* session_response.cpp */
  Reply plan_reply (bool text_output);
  /* conversation "none": a text about the conversation, outside it. */
  Reply plan_out_of_band_reply () const;
  void start_response (Reply reply);
  void on_speech_ready (const std::string &response_id, SharedAudio audio);
  void begin_audio_playout ();
  bool send_audio_delta ();
  static gboolean on_pace_tick (gpointer user_data);
  void send_text_response ();
  void send_function_call_response ();
  void finish_response (const char *status, const char *reason);
  void echo_append (const uint8_t *raw, size_t len, const std::vector<int16_t> &canonical);
  static gboolean on_echo_idle_check (gpointer user_data);
  void send_transcript_delta (size_t upto);
  void log_audio_out (const uint8_t *bytes, size_t n);  /* --timing-log */
  JsonObject *response_object (const char *status, const char *reason) const;
  JsonObject *new_response_event (const char *type) const;

  SessionEnv env_;
  std::shared_ptr<realtime::WsConnection> connection_;
  ClosedCallback on_closed_;
  /* Lets callbacks that outlive the session (speech synthesis) notice. */
  std::shared_ptr<int> alive_ = std::make_shared<int> (0);

  SessionConfig config_;
  SessionStats stats_;
  ReplyBook replies_;
  bool function_call_pending_;

  std::vector<Item> items_;

  std::unique_ptr<AudioDecoder> decoder_;
  std::unique_ptr<EnergyVad> vad_;
  int64_t vad_offset_ms_ = 0;
  uint64_t input_samples_total_ = 0;  /* canonical samples since session start */
  /* A deque: appended at the pace of the call for minutes and trimmed at
   * the front; a vector re-allocated and copied megabytes per call (at 200
   * calls about 10 % of the sim's CPU, memcpy and page faults). */
  std::deque<int16_t> input_buffer_;
  uint64_t input_buffer_start_ = 0;  /* index (in input_samples_total_) of buffer[0] */
  std::string speech_item_id_;
  int64_t speech_start_ms_ = 0;

  std::unique_ptr<Response> response_;

  /* --timing-log: arrival of the message being handled, audio sent so far. */
  int64_t message_arrival_ns_ = 0;
  uint64_t audio_out_bytes_ = 0;
};

}  // namespace voxbridge::sim
