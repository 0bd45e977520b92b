#pragma once
/* One Realtime API session (WebSocket), shared by name between a realtimesink
 * (which configures it, sends the caller's audio and posts its bus messages)
 * and a realtimesrc (which plays the model's audio out of its PlayoutQueue).
 * All network I/O runs on IoThread; public methods may be called from any
 * thread. */

#include <gst/gst.h>
#include <gio/gio.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "playout_queue.h"
#include "realtime_endpoint.h"
#include "realtime_protocol.h"
#include "websocket_client.h"

namespace voxbridge::realtime {

struct SessionSettings {
  std::string url;
  AuthType auth = AuthType::kAuto;
  std::string api_key;            /* secret: never logged */
  std::string api_key_env;
  std::string ca_file;
  SessionOptions options;
  guint connect_timeout_ms = 10000;
  guint reconnect_attempts = 3;
  bool barge_in = true;
  guint max_pending_ms = 5000;    /* caller audio kept while (re)connecting */
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  /* Returns the session called @name, creating it on first use. Every attach
   * needs a detach; the last detach closes the connection. */
  static std::shared_ptr<Session> attach (const std::string & name);
  static void detach (const std::shared_ptr<Session> & session);

  explicit Session (std::string name);
  ~Session ();

  /* --- realtimesink side --- */
  /* Validates @settings and makes @owner the element that posts this
   * session's messages and errors. */
  bool configure (GstElement * owner, const SessionSettings & settings, std::string * error);
  void release_owner (GstElement * owner);
  void connect ();
  void set_input_format (AudioFormat format);
  /* Queues one encoded input_audio_buffer.append of @audio_ms of audio. */
  void send_audio (std::string message, guint audio_ms);
  /* The input ended: make sure its last turn is answered. */
  void end_of_input ();
  void send_function_output (const std::string & call_id, const std::string & output);
  void send_text (const std::string & text);
  void create_response ();
  /* Out-of-band text response (e.g. a call summary); its response.created
   * is posted as realtime-response-started with @tag. */
  void request_text_response (const std::string & instructions, const std::string & tag);
  bool failed () const { return failed_.load (); }

  /* --- realtimesrc side --- */
  void attach_player (GstElement * player, AudioFormat format, guint frame_bytes);
  void detach_player (GstElement * player);
  PlayoutQueue & playout () { return playout_; }
  /* Barge-in reaches the audio already downstream of @player through
   * @flush (called on the session's thread): the player drops that audio
   * and then reports with finish_barge_in() how much of @item_id went out
   * to the caller (-1: nothing downstream counts it). */
  using DownstreamFlush = std::function<void (const std::string & item_id)>;
  void set_downstream_flush (GstElement * player, DownstreamFlush flush);
  /* What the session tells the player, on the session's thread, right
   * after it happened: model audio was queued in playout(), an item's audio
   * is complete, a response is done. */
  enum class PlayerNotice { kAudio, kAudioDone, kResponseDone };
  using PlayerNotify = std::function<void (PlayerNotice notice)>;
  void set_player_notify (GstElement * player, PlayerNotify notify);
  void finish_barge_in (const std::string & item_id, gint64 sent_ms);
  guint64 responses_done () const { return responses_done_.load (); }
  /* Model audio for the player (a response.output_audio.delta), and the
   * end of an item's audio; called on the session's thread, public for
   * tests. */
  void deliver_output_audio (const std::string & item_id, const guint8 * data, gsize size);
  void end_output_audio ();

  const std::string & name () const { return name_; }

 private:
  enum class State { kIdle, kConnecting, kOpen, kClosed };

  /* I/O thread only. */
  void start_connect ();
  void on_connected (std::shared_ptr<WebSocketClient> ws, guint status, const GError * error);
  void on_ws_message (const char * text, gsize size);
  void on_ws_closed (guint16 code, const std::string & reason);
  void connect_failed (const std::string & reason, const GError * error, guint status);
  void connection_lost (const std::string & reason);
  void drop_connection ();
  void handle_event (ServerEvent & ev);
  void barge_in ();
  void notify_player (PlayerNotice notice);
  void truncate_after_barge_in (const PlayoutQueue::FlushResult & r, bool cancelled,
      gint64 sent_ms, bool now);
  void send_now (const std::string & message);
  void flush_outbox ();
  void send_session_update ();
  void shutdown ();

  /* Any thread. */
  void queue_control (std::string message);
  /* A response.create, held back while a response is active. */
  void queue_response_create ();
  void schedule_flush ();
  std::string next_event_id ();
  void post (GstStructure * s);
  void post_error (GQuark domain, gint code, const std::string & text, const std::string & debug);
  void post_warning (const std::string & text, const std::string & debug);
  GstElement *poster ();

  const std::string name_;
  int users_ = 0;                  /* guarded by the registry lock */

  mutable std::mutex lock_;        /* guards what follows up to the I/O state */
  SessionSettings settings_;
  Endpoint endpoint_;
  GstElement *owner_ = nullptr;
  GstElement *player_ = nullptr;
  DownstreamFlush downstream_flush_;
  PlayerNotify player_notify_;
  /* A barge-in waiting for the player's downstream count. */
  bool barge_in_pending_ = false;
  PlayoutQueue::FlushResult pending_flush_;
  bool pending_cancelled_ = false;
  struct Outgoing {
    std::string text;
    guint audio_ms;               /* 0 for control events */
    bool creates_response = false;  /* a response.create: waits for an active one */
    std::string event_id = {};      /* of that response.create */
  };
  std::deque<Outgoing> outbox_;
  guint outbox_audio_ms_ = 0;
  bool flush_scheduled_ = false;
  guint64 dropped_input_ms_ = 0;
  guint64 event_counter_ = 0;

  std::atomic<bool> open_ {false};
  std::atomic<bool> failed_ {false};
  std::atomic<guint64> responses_done_ {0};
  PlayoutQueue playout_;
  guint output_bytes_per_ms_ = 48;

  /* I/O thread state. */
  State state_ = State::kIdle;
  GTlsDatabase *tls_database_ = nullptr;   /* from ca-file, loaded once */
  std::shared_ptr<WebSocketClient> ws_;
  GCancellable *cancellable_ = nullptr;
  GSource *timeout_source_ = nullptr;
  GSource *retry_source_ = nullptr;
  bool timed_out_ = false;
  bool ready_ = false;
  bool ever_ready_ = false;
  gint64 connect_started_us_ = 0;  /* monotonic: this connect attempt began */
  guint reconnects_ = 0;
  std::string session_update_event_id_;
  bool response_active_ = false;
  /* A response.create sent and not yet answered by response.created. */
  bool response_requested_ = false;
  std::string response_requested_event_id_;
  /* A response.create that arrived while a response was active: sent at
   * its response.done (the API refuses a second active response). */
  bool response_create_deferred_ = false;
  std::string response_id_;
  std::string cancelled_response_id_;
  bool cancel_in_flight_ = false;
};

}  // namespace voxbridge::realtime
