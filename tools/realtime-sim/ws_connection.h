#pragma once

/* The server side of one WebSocket (RFC 6455) over a GIOStream that
 * SoupServer handed over after answering the upgrade with 101.
 *
 * Why not SoupWebsocketConnection: libsoup 3.2 destroys and re-creates its
 * input GSource for every message it receives (several eventfd writes and
 * an extra main-loop pass per message) and emits a GObject signal with a
 * GBytes per message. At 200 echo sessions (an append every 20 ms each, a
 * delta back) that made the sim a whole core's worth of work. Here one read
 * source lives as long as the connection, reads go until a short read, and
 * writes are non-blocking with a write source only while the socket is
 * congested (as the launcher's client, plugins/realtime/websocket_client.cpp).
 *
 * Everything runs on the thread-default main context of the caller of
 * start(). */

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "websocket_frame.h"
#include "websocket_stream.h"

namespace voxbridge::sim {

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  /* @binary: a binary message (the sessions take text only). */
  using MessageHandler = std::function<void (bool binary, const char *data, gsize size)>;
  /* Runs once, when the connection is over (either side closed, or it
   * broke). It may drop the owner's reference. */
  using ClosedHandler = std::function<void ()>;

  /* @stream: the upgraded connection (from soup_server_message_steal_connection);
   * @socket: the TCP socket under it, watched for reads; @drain_reads: read
   * until it would block, not just until a short read (TLS, whose layer may
   * hold decrypted bytes the socket no longer shows). */
  static std::shared_ptr<WsConnection> create (GIOStream *stream, GSocket *socket,
      bool drain_reads);
  ~WsConnection ();
  WsConnection (const WsConnection &) = delete;
  WsConnection &operator= (const WsConnection &) = delete;

  void set_handlers (MessageHandler on_message, ClosedHandler on_closed);
  /* No handler runs after this. */
  void clear_handlers ();
  void set_max_message_size (guint64 size) { reader_.set_max_message_size (size); }
  /* Starts reading (the bytes that came with the upgrade request first). */
  void start ();

  bool is_open () const { return state_ == State::kOpen; }
  void send_text (const char *text, gsize size);
  /* Starts the close handshake; the connection finishes it on its own (it
   * keeps itself alive until the peer answers, at most a few seconds). */
  void close (guint16 code, const std::string &reason = "");

 private:
  enum class State { kOpen, kClosing, kClosed };

  WsConnection (GIOStream *stream, GSocket *socket, bool drain_reads);
  static gboolean on_readable (GSocket *socket, GIOCondition condition, gpointer data);
  static gboolean on_close_timeout (gpointer data);
  void read_and_dispatch ();
  bool read_available ();
  bool discard_available ();
  void begin_closing ();
  void send_frame (realtime::WsOpcode opcode, const guint8 *payload, gsize size);
  void flush_output ();
  void fail (guint16 code);
  void finish ();
  void release_io ();

  GIOStream *stream_;
  GSocket *socket_;
  GPollableInputStream *input_;
  GPollableOutputStream *output_;
  bool drain_reads_;
  State state_ = State::kOpen;
  bool discard_input_ = false;   /* after a protocol error */
  realtime::WsFrameReader reader_;
  realtime::WsOutput writer_;      /* frames not yet written */
  GSource *read_source_ = nullptr;
  GSource *close_timeout_ = nullptr;
  MessageHandler on_message_;
  ClosedHandler on_closed_;
  /* Held while the close handshake runs without an owner. */
  std::shared_ptr<WsConnection> closing_self_;
};

}  // namespace voxbridge::sim
