#pragma once
/* One open WebSocket (RFC 6455) over a connected, non-blocking GIOStream:
 * both ends use it, the realtime elements' client
 * (plugins/realtime/websocket_client.h, which adds the handshake and watches
 * reads with the I/O thread's epoll set) and voxbridge-realtime-sim's server
 * (tools/realtime-sim/sim_server.cpp, which takes the stream from SoupServer
 * after its 101).
 *
 * Why not SoupWebsocketConnection: libsoup 3.2 (Debian 12) destroys and
 * re-creates its input GSource for every message it receives (several
 * eventfd writes and an extra main-loop pass per message) and emits a
 * GObject signal with a GBytes per message: with 50 calls 13,300 wakeup
 * writes/s on the launcher's I/O thread, and at 200 echo sessions a whole
 * core in the sim. Here one read watch lives as long as the connection,
 * reads go until a short read, and writes are non-blocking with a write
 * source only while the socket is congested.
 *
 * Everything runs on the thread-default main context of the caller of
 * start() (the client: of WebSocketClient::connect()). */

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>

#include "websocket_frame.h"
#include "websocket_stream.h"

namespace voxbridge::realtime {

/* How a connection's socket is watched for reads when not by a GSource of
 * its own (the launcher's I/O thread has one epoll set for every socket). */
struct WsReadWatch {
  /* Calls @ready (@data) while @fd is readable. An id for unwatch(); 0 when
   * it cannot (the connection then uses a GSource). */
  guint64 (*watch) (int fd, void (*ready) (gpointer data), gpointer data);
  /* After it returns @ready is not called again; before the fd closes. */
  void (*unwatch) (guint64 id);
};

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  /* Which end we are. A client masks its frames and reads unmasked ones, a
   * server the other way round (a wrong one: close 1002). A server also
   * echoes a close frame's reason (as libsoup's did), and after a protocol
   * error reads and drops what the client still sends until it closes too
   * (closing a socket on unread bytes resets it, and the client might never
   * see our close frame); a client just closes. */
  enum class Role { kClient, kServer };
  struct Options {
    Role role = Role::kServer;
    guint64 max_message_size = 16 * 1024 * 1024;
    /* Unsent bytes beyond this mean the peer stopped reading: the
     * connection fails instead of growing. */
    gsize max_unsent = 16 * 1024 * 1024;
    /* Read until it would block, not just until a short read (TLS, whose
     * layer may hold decrypted bytes the socket no longer shows). */
    bool drain_reads = false;
    /* nullptr: a GSource on the thread-default context. */
    const WsReadWatch *read_watch = nullptr;
  };

  /* A whole text or binary message; @data is valid during the call. */
  using MessageHandler = std::function<void (const char *data, gsize size)>;
  /* Runs once, when the connection is over. @code: the peer's close code, 0
   * when it gave none or the connection failed; @reason: its reason or what
   * went wrong. It may drop the owner's reference. */
  using ClosedHandler = std::function<void (guint16 code, const std::string &reason)>;

  /* @stream: the connection after the upgrade; @socket: the TCP socket
   * under it, watched for reads. */
  static std::shared_ptr<WsConnection> create (GIOStream *stream, GSocket *socket,
      const Options &options);
  ~WsConnection ();
  WsConnection (const WsConnection &) = delete;
  WsConnection &operator= (const WsConnection &) = delete;

  /* @on_binary: nullptr ignores binary messages. */
  void set_handlers (MessageHandler on_text, ClosedHandler on_closed,
      MessageHandler on_binary = nullptr);
  /* No handler runs after this. */
  void clear_handlers ();
  void set_max_message_size (guint64 size) { reader_.set_max_message_size (size); }
  /* Starts reading, and handles at once what the stream already holds
   * (frames the HTTP layer read with the upgrade request). */
  void start ();

  bool is_open () const { return state_ == State::kOpen; }
  void send_text (const char *text, gsize size);
  /* A ping every @seconds (0: none), so idle connections stay up. */
  void set_keepalive (guint seconds);
  /* Starts the close handshake; the connection finishes it on its own (it
   * keeps itself alive until the peer answers, at most a few seconds). */
  void close (guint16 code, const std::string &reason = "");

 protected:
  WsConnection (GIOStream *stream, GSocket *socket, const Options &options);
  /* Bytes of the peer's read before the connection began (the client's:
   * with the 101 answer). */
  void preload (const guint8 *data, gsize size);
  gsize buffered () const { return reader_.buffered (); }
  /* Watches the socket for reads (start() without the first read). */
  void watch_reads ();
  /* The socket is readable: reads, then dispatches the frames. */
  static void on_readable (gpointer data);

 private:
  enum class State { kOpen, kClosing, kClosed };

  /* Attaches @source to the thread-default context, calling @callback (this). */
  GSource *attach (GSource *source, GSourceFunc callback);
  static gboolean on_socket_readable (GSocket *socket, GIOCondition condition, gpointer data);
  static gboolean on_keepalive (gpointer data);
  static gboolean on_close_timeout (gpointer data);
  void read_and_dispatch (bool drain);
  bool discard_available ();
  const char *peer () const { return role_ == Role::kClient ? "the server" : "the client"; }
  void send_frame (WsOpcode opcode, const guint8 *payload, gsize size);
  void send_close (guint16 code, const std::string &reason);
  void flush_output ();
  void begin_closing ();
  void fail (guint16 code, const std::string &reason);
  void finish (guint16 code, const std::string &reason);
  void release_io ();

  GIOStream *stream_;
  GSocket *socket_;
  GPollableInputStream *input_;
  const Role role_;
  const bool drain_reads_;
  const gsize max_unsent_;
  const WsReadWatch *const read_watch_;
  WsFrameReader reader_;
  State state_ = State::kOpen;
  bool discard_input_ = false;   /* a server after a protocol error */
  WsOutput writer_;              /* frames not yet written */
  guint64 read_watch_id_ = 0;
  GSource *read_source_ = nullptr;
  GSource *keepalive_source_ = nullptr;
  GSource *close_timeout_ = nullptr;
  MessageHandler on_text_;
  MessageHandler on_binary_;
  ClosedHandler on_closed_;
  /* Held while the close handshake runs without an owner. */
  std::shared_ptr<WsConnection> closing_self_;
};

}  // namespace voxbridge::realtime
