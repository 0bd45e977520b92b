/* One open WebSocket connection (RFC 6455), either end; see websocket_connection.h. */
#include "websocket_connection.h"

#include <cstring>

namespace voxbridge::realtime {

namespace {

/* How long a close handshake may take before the socket is just closed. */
constexpr guint kCloseTimeoutMs = 2000;

}  // namespace

std::shared_ptr<WsConnection>
WsConnection::create (GIOStream *stream, GSocket *socket, const Options &options)
{
  return std::shared_ptr<WsConnection> (new WsConnection (stream, socket, options));
}

WsConnection::WsConnection (GIOStream *stream, GSocket *socket, const Options &options)
    : stream_ (G_IO_STREAM (g_object_ref (stream))),
      socket_ (G_SOCKET (g_object_ref (socket))),
      input_ (G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream))),
      role_ (options.role),
      drain_reads_ (options.drain_reads),
      max_unsent_ (options.max_unsent),
      read_watch_ (options.read_watch),
      reader_ (options.max_message_size, options.role == Role::kClient
              ? WsFrameReader::Sender::kServer : WsFrameReader::Sender::kClient),
      writer_ (G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream)), [this] {
            auto keep = shared_from_this ();
            flush_output ();
          })
{
}

WsConnection::~WsConnection ()
{
  release_io ();
  g_clear_object (&stream_);
  g_clear_object (&socket_);
}

void
WsConnection::set_handlers (MessageHandler on_text, ClosedHandler on_closed,
    MessageHandler on_binary)
{
  on_text_ = std::move (on_text);
  on_closed_ = std::move (on_closed);
  on_binary_ = std::move (on_binary);
}

void
WsConnection::clear_handlers ()
{
  on_text_ = nullptr;
  on_binary_ = nullptr;
  on_closed_ = nullptr;
}

void
WsConnection::preload (const guint8 *data, gsize size)
{
  memcpy (reader_.space (size), data, size);
  reader_.commit (size);
}

void
WsConnection::start ()
{
  if (state_ == State::kClosed || read_watch_id_ != 0 || read_source_)
    return;
  watch_reads ();
  /* The HTTP layer may have read the first frames with the upgrade request:
   * they sit in the stream's buffer, not in the socket. */
  auto keep = shared_from_this ();
  read_and_dispatch (true);
}

void
WsConnection::watch_reads ()
{
  /* Either way reads drain the stream (a TLS one too), so nothing stays
   * buffered above the socket while it is not readable. */
  if (read_watch_)
    read_watch_id_ = read_watch_->watch (g_socket_get_fd (socket_), on_readable, this);
  if (read_watch_id_ != 0)
    return;
  /* The socket's own source, not the stream's pollable source: that one has
   * a child source, and GLib takes every dispatched source's fd out of the
   * poll set and puts it back (two wakeup writes per message) unless it may
   * recurse. */
  read_source_ = g_socket_create_source (socket_,
      static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  g_source_set_can_recurse (read_source_, TRUE);
  attach (read_source_, G_SOURCE_FUNC (on_socket_readable));
}

GSource *
WsConnection::attach (GSource *source, GSourceFunc callback)
{
  g_source_set_callback (source, callback, this, nullptr);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

gboolean
WsConnection::on_socket_readable (GSocket *, GIOCondition, gpointer data)
{
  on_readable (data);
  return G_SOURCE_CONTINUE;
}

void
WsConnection::on_readable (gpointer data)
{
  auto *self = static_cast<WsConnection *> (data);
  /* Handlers may drop the owner's reference. */
  auto keep = self->shared_from_this ();
  self->read_and_dispatch (self->drain_reads_);
}

void
WsConnection::read_and_dispatch (bool drain)
{
  if (state_ == State::kClosed)
    return;
  if (discard_input_) {
    if (!discard_available ())
      finish (0, "");
    return;
  }
  std::string error;
  const WsReadResult read = ws_read_available (input_, reader_, drain, &error);
  if (read == WsReadResult::kError) {
    fail (kWsCloseAbnormal, "reading failed: " + error);
    return;
  }

  while (state_ != State::kClosed) {
    WsFrameReader::Frame frame = reader_.next ();
    switch (frame.kind) {
      case WsFrameReader::Kind::kNeedMore:
        break;
      case WsFrameReader::Kind::kText:
        if (state_ == State::kOpen && on_text_)
          on_text_ (frame.data, frame.size);
        continue;
      case WsFrameReader::Kind::kBinary:
        if (state_ == State::kOpen && on_binary_)
          on_binary_ (frame.data, frame.size);
        continue;
      case WsFrameReader::Kind::kPong:
        continue;
      case WsFrameReader::Kind::kPing:
        send_frame (WsOpcode::kPong, reinterpret_cast<const guint8 *> (frame.data), frame.size);
        continue;
      case WsFrameReader::Kind::kClose:
        /* Answer with the same code (RFC 6455 5.5.1), then we are done. */
        if (state_ == State::kOpen)
          send_close (frame.close_code, role_ == Role::kServer ? frame.close_reason : "");
        finish (frame.close_code, frame.close_reason);
        continue;
      case WsFrameReader::Kind::kError:
        fail (frame.close_code, "protocol error: " + frame.error);
        break;
    }
    break;
  }
  if (read == WsReadResult::kEnd && state_ != State::kClosed)
    finish (0, state_ == State::kClosing ? "" : "the connection ended without a close frame");
}

/* A server after a protocol error: reads and drops. False at the end of the
 * stream. */
bool
WsConnection::discard_available ()
{
  guint8 scratch[4096];
  for (;;) {
    GError *error = nullptr;
    gssize count = g_pollable_input_stream_read_nonblocking (input_, scratch, sizeof (scratch),
        nullptr, &error);
    if (count == 0)
      return false;
    if (count < 0) {
      const bool more = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free (error);
      return more;
    }
  }
}

void
WsConnection::send_text (const char *text, gsize size)
{
  send_frame (WsOpcode::kText, reinterpret_cast<const guint8 *> (text), size);
}

void
WsConnection::send_frame (WsOpcode opcode, const guint8 *payload, gsize size)
{
  if (state_ != State::kOpen)
    return;
  if (writer_.unsent () + size > max_unsent_) {
    fail (kWsCloseAbnormal, std::string (peer ()) + " has not read the last "
        + std::to_string (writer_.unsent () / 1024) + " KiB we sent");
    return;
  }
  if (role_ == Role::kClient)
    ws_encode_client_frame (opcode, payload, size, g_random_int (), writer_.buffer ());
  else
    ws_encode_server_frame (opcode, payload, size, writer_.buffer ());
  if (!writer_.congested ())
    flush_output ();
}

/* @code 0: a close frame without a code (nor reason). */
void
WsConnection::send_close (guint16 code, const std::string &reason)
{
  const std::string payload = code ? ws_close_payload (code, reason) : std::string ();
  send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
      payload.size ());
}

void
WsConnection::flush_output ()
{
  std::string error;
  if (!writer_.flush (&error))
    fail (kWsCloseAbnormal, "writing failed: " + error);
}

void
WsConnection::set_keepalive (guint seconds)
{
  if (keepalive_source_) {
    g_source_destroy (keepalive_source_);
    g_clear_pointer (&keepalive_source_, g_source_unref);
  }
  if (seconds == 0)
    return;
  keepalive_source_ = attach (g_timeout_source_new_seconds (seconds), on_keepalive);
}

gboolean
WsConnection::on_keepalive (gpointer data)
{
  auto *self = static_cast<WsConnection *> (data);
  auto keep = self->shared_from_this ();
  self->send_frame (WsOpcode::kPing, nullptr, 0);
  return G_SOURCE_CONTINUE;
}

void
WsConnection::close (guint16 code, const std::string &reason)
{
  if (state_ != State::kOpen)
    return;
  auto keep = shared_from_this ();
  send_close (code, reason);
  if (state_ == State::kOpen)   /* else writing failed: already finished */
    begin_closing ();
}

/* Waits for the peer's close frame (or the end of the stream), a few
 * seconds at most. */
void
WsConnection::begin_closing ()
{
  state_ = State::kClosing;
  closing_self_ = shared_from_this ();
  close_timeout_ = attach (g_timeout_source_new (kCloseTimeoutMs), on_close_timeout);
}

gboolean
WsConnection::on_close_timeout (gpointer data)
{
  auto *self = static_cast<WsConnection *> (data);
  auto keep = self->shared_from_this ();
  self->finish (0, std::string (self->peer ()) + " did not answer our close frame");
  return G_SOURCE_REMOVE;
}

/* With a close code the peer is told why (RFC 6455 7.1.7); with
 * kWsCloseAbnormal the connection just ends. */
void
WsConnection::fail (guint16 code, const std::string &reason)
{
  if (state_ == State::kOpen && code != kWsCloseAbnormal) {
    send_close (code, "");
    if (role_ == Role::kServer && state_ == State::kOpen) {
      discard_input_ = true;
      begin_closing ();
      return;
    }
  }
  finish (0, reason);
}

void
WsConnection::finish (guint16 code, const std::string &reason)
{
  if (state_ == State::kClosed)
    return;
  /* The handler may drop the owner's reference; this one goes last. */
  std::shared_ptr<WsConnection> keep = shared_from_this ();
  state_ = State::kClosed;
  release_io ();
  ClosedHandler handler = std::move (on_closed_);
  clear_handlers ();
  closing_self_.reset ();
  if (handler)
    handler (code, reason);
}

void
WsConnection::release_io ()
{
  if (read_watch_id_ != 0) {
    read_watch_->unwatch (read_watch_id_);     /* before the socket closes */
    read_watch_id_ = 0;
  }
  writer_.stop ();
  for (GSource **source : { &read_source_, &keepalive_source_, &close_timeout_ }) {
    if (*source) {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
  }
  if (stream_ && !g_io_stream_is_closed (stream_)) {
    /* Asynchronously: a TLS close may have to write its close_notify. */
    g_io_stream_close_async (stream_, G_PRIORITY_DEFAULT, nullptr,
        [] (GObject *source, GAsyncResult *result, gpointer) {
          g_io_stream_close_finish (G_IO_STREAM (source), result, nullptr);
          g_object_unref (source);
        },
        g_object_ref (stream_));
  }
}

}  // namespace voxbridge::realtime
