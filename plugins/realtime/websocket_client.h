#pragma once
/* The WebSocket client connection of a Realtime session (RFC 6455 over GIO:
 * GSocketClient for TCP, TLS and proxies; libsoup's header parser for the
 * upgrade answer).
 *
 * Why not SoupWebsocketConnection: libsoup 3.2 (Debian 12) destroys and
 * re-creates its input GSource for every message it receives, which cost
 * six eventfd writes and an extra main-loop pass per model audio delta
 * (measured with 50 calls: 13,300 writes/s on the I/O thread). Here one
 * source per connection lives as long as the connection.
 *
 * Everything runs on the thread-default main context of the caller of
 * connect() (the sessions' I/O thread). */

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "websocket_frame.h"
#include "websocket_stream.h"

namespace voxbridge::realtime {

class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
 public:
  struct Request {
    std::string url;            /* ws://, wss://, http:// or https:// */
    std::vector<std::pair<std::string, std::string>> headers;
    GTlsDatabase *tls_database = nullptr;  /* nullptr: the system's */
    guint64 max_message_size = 64 * 1024 * 1024;
    /* Unsent bytes beyond this mean the server stopped reading: the
     * connection fails (and the session reconnects) instead of growing. */
    gsize max_unsent = 16 * 1024 * 1024;
  };
  /* @ws is set when the upgrade succeeded; otherwise @http_status is the
   * server's answer (0 when there was none) and @error says why. */
  using ConnectDone = std::function<void (std::shared_ptr<WebSocketClient> ws,
      guint http_status, const GError * error)>;
  using TextHandler = std::function<void (const char * text, gsize size)>;
  /* @code: the peer's close code, 0 when it gave none, kWsCloseAbnormal when
   * the connection broke; @reason: its reason or what went wrong. */
  using ClosedHandler = std::function<void (guint16 code, const std::string & reason)>;

  static void connect (const Request & request, GCancellable * cancellable, ConnectDone done);

  ~WebSocketClient ();
  WebSocketClient (const WebSocketClient &) = delete;
  WebSocketClient & operator= (const WebSocketClient &) = delete;

  void set_handlers (TextHandler on_text, ClosedHandler on_closed);
  /* No handler runs after this. */
  void clear_handlers ();
  bool is_open () const { return state_ == State::kOpen; }
  void send_text (const char * text, gsize size);
  /* A ping every @seconds (0: none), so idle connections stay up. */
  void set_keepalive (guint seconds);
  /* Starts the close handshake; the connection finishes it on its own (it
   * keeps itself alive until the peer answers, at most a few seconds). */
  void close (guint16 code, const std::string & reason = "");

 private:
  enum class State { kOpen, kClosing, kClosed };
  struct Handshake;

  WebSocketClient (GIOStream * stream, GSocket * socket, const Request & request,
      std::vector<guint8> leftover);
  static void on_connected (GObject * source, GAsyncResult * result, gpointer data);
  static void on_request_written (GObject * source, GAsyncResult * result, gpointer data);
  static void read_response (Handshake * hs);
  static void on_response_read (GObject * source, GAsyncResult * result, gpointer data);
  static void finish_handshake (Handshake * hs, std::shared_ptr<WebSocketClient> ws,
      guint status, GError * error);

  void start_reading ();
  static gboolean on_readable (GSocket * socket, GIOCondition condition, gpointer data);
  static gboolean on_keepalive (gpointer data);
  static gboolean on_close_timeout (gpointer data);
  bool read_available ();
  void send_frame (WsOpcode opcode, const guint8 * payload, gsize size);
  void flush_output ();
  void fail (guint16 code, const std::string & reason);
  void finish (guint16 code, const std::string & reason);
  void release_io ();

  GIOStream *stream_;
  GSocket *socket_;           /* the TCP socket under the stream (and TLS) */
  GPollableInputStream *input_;
  GPollableOutputStream *output_;
  State state_ = State::kOpen;
  WsFrameReader reader_;
  WsOutput writer_;                 /* frames not yet written */
  gsize max_unsent_;
  guint64 read_watch_ = 0;      /* in the I/O poller, on the I/O thread */
  GSource *read_source_ = nullptr;   /* elsewhere */
  GSource *keepalive_source_ = nullptr;
  GSource *close_timeout_ = nullptr;
  TextHandler on_text_;
  ClosedHandler on_closed_;
  /* Held while the close handshake runs without an owner. */
  std::shared_ptr<WebSocketClient> closing_self_;
};

}  // namespace voxbridge::realtime
