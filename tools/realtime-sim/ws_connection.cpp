/* The server side of a WebSocket connection (RFC 6455). */
#include "ws_connection.h"

namespace voxbridge::sim {

using realtime::WsFrameReader;
using realtime::WsOpcode;

namespace {

/* How long a close handshake may take before the socket is just closed. */
constexpr guint kCloseTimeoutMs = 2000;
/* Until the session sets its own (Session: the service's 16 MiB). */
constexpr guint64 kDefaultMaxMessage = 16 * 1024 * 1024;
/* Unsent bytes beyond this mean the client stopped reading: the connection
 * is dropped instead of growing (libsoup's queue had no bound at all). */
constexpr gsize kMaxUnsent = 64 * 1024 * 1024;

}  // namespace

std::shared_ptr<WsConnection>
WsConnection::create (GIOStream *stream, GSocket *socket, bool drain_reads)
{
  return std::shared_ptr<WsConnection> (new WsConnection (stream, socket, drain_reads));
}

WsConnection::WsConnection (GIOStream *stream, GSocket *socket, bool drain_reads)
    : stream_ (G_IO_STREAM (g_object_ref (stream))),
      socket_ (G_SOCKET (g_object_ref (socket))),
      input_ (G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream))),
      output_ (G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream))),
      drain_reads_ (drain_reads),
      reader_ (kDefaultMaxMessage, WsFrameReader::Sender::kClient),
      writer_ (output_, [this] {
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
WsConnection::set_handlers (MessageHandler on_message, ClosedHandler on_closed)
{
  on_message_ = std::move (on_message);
  on_closed_ = std::move (on_closed);
}

void
WsConnection::clear_handlers ()
{
  on_message_ = nullptr;
  on_closed_ = nullptr;
}

void
WsConnection::start ()
{
  if (state_ == State::kClosed || read_source_)
    return;
  /* The socket's own source, not the stream's pollable source: that one has
   * a child source, and GLib takes every dispatched source's fd out of the
   * poll set and puts it back (two wakeup writes per message) unless it may
   * recurse. */
  read_source_ = g_socket_create_source (socket_,
      static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  g_source_set_callback (read_source_, G_SOURCE_FUNC (on_readable), this, nullptr);
  g_source_set_can_recurse (read_source_, TRUE);
  g_source_attach (read_source_, g_main_context_get_thread_default ());
  /* The HTTP layer may have read the first frames with the upgrade request:
   * they sit in the stream's buffer, not in the socket. */
  auto keep = shared_from_this ();
  const bool drain = drain_reads_;
  drain_reads_ = true;
  read_and_dispatch ();
  drain_reads_ = drain;
}

gboolean
WsConnection::on_readable (GSocket *, GIOCondition, gpointer data)
{
  auto *self = static_cast<WsConnection *> (data);
  /* Handlers may drop the owner's reference. */
  auto keep = self->shared_from_this ();
  self->read_and_dispatch ();
  return G_SOURCE_CONTINUE;
}

void
WsConnection::read_and_dispatch ()
{
  if (state_ == State::kClosed)
    return;
  if (discard_input_) {
    if (!discard_available ())
      finish ();
    return;
  }
  const bool end = !read_available ();

  while (state_ != State::kClosed) {
    WsFrameReader::Frame frame = reader_.next ();
    switch (frame.kind) {
      case WsFrameReader::Kind::kNeedMore:
        break;
      case WsFrameReader::Kind::kText:
      case WsFrameReader::Kind::kBinary:
        if (state_ == State::kOpen && on_message_)
          on_message_ (frame.kind == WsFrameReader::Kind::kBinary, frame.data, frame.size);
        continue;
      case WsFrameReader::Kind::kPong:
        continue;
      case WsFrameReader::Kind::kPing:
        send_frame (WsOpcode::kPong, reinterpret_cast<const guint8 *> (frame.data), frame.size);
        continue;
      case WsFrameReader::Kind::kClose:
        if (state_ == State::kOpen) {
          /* Answer with the same code (RFC 6455 5.5.1); the server then
           * closes the TCP connection first (7.1.1). */
          std::string payload =
              frame.close_code ? realtime::ws_close_payload (frame.close_code, frame.close_reason) : "";
          send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
              payload.size ());
        }
        finish ();
        continue;
      case WsFrameReader::Kind::kError:
        /* Closing already: no second close frame, the connection just ends. */
        fail (frame.close_code);
        break;
    }
    break;
  }
  if (end && state_ != State::kClosed)
    finish ();
}

/* Reads what the socket has. Returns false at the end of the stream or on
 * an error (then the connection is over). */
bool
WsConnection::read_available ()
{
  std::string error;
  return realtime::ws_read_available (input_, reader_, drain_reads_, &error) ==
      realtime::WsReadResult::kOk;
}

/* After a protocol error: reads and drops. False at the end of the stream. */
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
  if (writer_.unsent () + size > kMaxUnsent) {
    g_printerr ("WebSocket client has not read the last %zu KiB sent: dropping it\n",
        writer_.unsent () / 1024);
    finish ();
    return;
  }
  realtime::ws_encode_server_frame (opcode, payload, size, writer_.buffer ());
  if (!writer_.congested ())
    flush_output ();
}

void
WsConnection::flush_output ()
{
  std::string error;
  if (!writer_.flush (&error))
    finish ();
}

void
WsConnection::close (guint16 code, const std::string &reason)
{
  if (state_ != State::kOpen)
    return;
  auto keep = shared_from_this ();
  std::string payload = realtime::ws_close_payload (code, reason);
  send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
      payload.size ());
  if (state_ != State::kOpen)
    return;     /* writing failed: already finished */
  begin_closing ();
}

/* Waits for the client's close frame (or the end of the stream), a few
 * seconds at most. */
void
WsConnection::begin_closing ()
{
  state_ = State::kClosing;
  closing_self_ = shared_from_this ();
  close_timeout_ = g_timeout_source_new (kCloseTimeoutMs);
  g_source_set_callback (close_timeout_, on_close_timeout, this, nullptr);
  g_source_attach (close_timeout_, g_main_context_get_thread_default ());
}

gboolean
WsConnection::on_close_timeout (gpointer data)
{
  auto *self = static_cast<WsConnection *> (data);
  auto keep = self->shared_from_this ();
  g_clear_pointer (&self->close_timeout_, g_source_unref);
  self->finish ();
  return G_SOURCE_REMOVE;
}

/* A protocol violation (RFC 6455 7.1.7): the close frame with @code; what
 * the client sends after it is read and dropped until it closes too (closing
 * the socket on unread bytes would reset it, and the client might never see
 * the close frame). */
void
WsConnection::fail (guint16 code)
{
  auto keep = shared_from_this ();
  discard_input_ = true;
  if (state_ != State::kOpen) {
    finish ();
    return;
  }
  std::string payload = realtime::ws_close_payload (code, "");
  send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
      payload.size ());
  if (state_ == State::kOpen)
    begin_closing ();
}

void
WsConnection::finish ()
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
    handler ();
}

void
WsConnection::release_io ()
{
  writer_.stop ();
  for (GSource **source : { &read_source_, &close_timeout_ }) {
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

}  // namespace voxbridge::sim
