#pragma once

/* The HTTP/WebSocket side: listens (ws:// or wss://), vets each upgrade
 * request (path, model, credentials, session limit) before the handshake,
 * and owns one Session per open WebSocket. SoupServer does HTTP and the
 * handshake; the upgraded connection is taken from it and served by
 * the server end of realtime::WsConnection (common/websocket_connection.h),
 * not SoupWebsocketConnection. */

#include <memory>
#include <string>
#include <unordered_map>

#include <libsoup/soup.h>

#include "session.h"
#include "sim_options.h"
#include "tts.h"

namespace voxbridge::sim {

class SimServer {
 public:
  SimServer (const SimOptions &options, SpeechSynthesizer *tts);
  ~SimServer ();  /* closes all sessions */
  SimServer (const SimServer &) = delete;
  SimServer &operator= (const SimServer &) = delete;

  /* Binds and listens; on success the URL clients use ("ws://host:port"). */
  bool start (std::string *url, std::string *error);
  /* Stops listening, closes every WebSocket and runs the main context until
   * they are closed (or @timeout_ms passed), so each session gets logged. */
  void shutdown (int timeout_ms);
  size_t session_count () const { return sessions_.size (); }

  /* --timing-log: sessions opened from now on write to @log (may be nullptr). */
  void set_timing_log (TimingLog *log) { env_.timing_log = log; }

 private:
  static void on_request_read (SoupServer *server, SoupServerMessage *msg, gpointer user_data);
  static void on_upgrade_request (SoupServer *server, SoupServerMessage *msg, const char *path,
      GHashTable *query, gpointer user_data);
  static void on_upgraded (SoupServerMessage *msg, gpointer user_data);
  void remove_session (Session *session);
  static void log_session (Session *session);

  const SimOptions &options_;
  SessionEnv env_;
  SoupServer *server_ = nullptr;
  std::unordered_map<Session *, std::unique_ptr<Session>> sessions_;
  uint64_t connections_total_ = 0;
};

}  // namespace voxbridge::sim
