/* WebSocket client connection (RFC 6455) for Realtime sessions. */
#include "websocket_client.h"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <cstring>

#include "io_poller.h"
#include "io_thread.h"

namespace voxbridge::realtime {

using voxbridge::IoPoller;
using voxbridge::IoThread;

namespace {

constexpr gsize kMaxResponseHeader = 64 * 1024;
/* How long a close handshake may take before the socket is just closed. */
constexpr guint kCloseTimeoutMs = 2000;

GError *
make_error (GIOErrorEnum code, const std::string & message)
{
  return g_error_new_literal (G_IO_ERROR, code, message.c_str ());
}

bool
has_line_break (const std::string & s)
{
  return s.find_first_of ("\r\n") != std::string::npos;
}

std::string
random_key ()
{
  guint8 nonce[16];
  for (gsize i = 0; i < sizeof (nonce); i += 4) {
    guint32 r = g_random_int ();
    memcpy (nonce + i, &r, 4);
  }
  gchar *key = g_base64_encode (nonce, sizeof (nonce));
  std::string result (key);
  g_free (key);
  return result;
}

}  // namespace

/* One connection attempt: TCP (and TLS), the upgrade request, its answer. */
struct WebSocketClient::Handshake {
  Request request;
  ConnectDone done;
  GCancellable *cancellable = nullptr;
  GSocketClient *client = nullptr;
  GSocketConnection *connection = nullptr;
  std::string key;
  std::string request_text;
  std::vector<char> response;
  gsize response_len = 0;

  ~Handshake ()
  {
    g_clear_object (&connection);
    g_clear_object (&client);
    g_clear_object (&cancellable);
  }
};

void
WebSocketClient::connect (const Request & request, GCancellable * cancellable, ConnectDone done)
{
  auto *hs = new Handshake;
  hs->request = request;
  hs->done = std::move (done);
  hs->cancellable = cancellable ? G_CANCELLABLE (g_object_ref (cancellable)) : nullptr;

  GError *error = nullptr;
  GUri *uri = g_uri_parse (request.url.c_str (), G_URI_FLAGS_ENCODED, &error);
  if (!uri) {
    finish_handshake (hs, nullptr, 0, error);
    return;
  }
  const std::string scheme = g_uri_get_scheme (uri);
  const bool tls = scheme == "wss" || scheme == "https";
  if (!tls && scheme != "ws" && scheme != "http") {
    g_uri_unref (uri);
    finish_handshake (hs, nullptr, 0, make_error (G_IO_ERROR_INVALID_ARGUMENT,
            "unsupported URL scheme '" + scheme + "' (ws, wss, http or https)"));
    return;
  }
  const char *host = g_uri_get_host (uri);
  if (!host || !*host) {
    g_uri_unref (uri);
    finish_handshake (hs, nullptr, 0, make_error (G_IO_ERROR_INVALID_ARGUMENT,
            "the URL has no host"));
    return;
  }
  const gint default_port = tls ? 443 : 80;
  const gint port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : default_port;
  std::string path = g_uri_get_path (uri);
  if (path.empty ())
    path = "/";
  if (g_uri_get_query (uri))
    path += std::string ("?") + g_uri_get_query (uri);
  std::string host_header = strchr (host, ':') ? std::string ("[") + host + "]" : host;
  if (port != default_port)
    host_header += ":" + std::to_string (port);
  /* GSocketClient resolves proxies by scheme: ask for http(s). */
  gchar *connect_uri = g_uri_join (G_URI_FLAGS_NONE, tls ? "https" : "http", nullptr, host, port,
      "/", nullptr, nullptr);
  g_uri_unref (uri);

  hs->key = random_key ();
  std::string text = "GET " + path + " HTTP/1.1\r\n"
      "Host: " + host_header + "\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: " + hs->key + "\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  for (const auto & [name, value] : request.headers) {
    if (name.empty () || has_line_break (name) || has_line_break (value)) {
      g_free (connect_uri);
      finish_handshake (hs, nullptr, 0, make_error (G_IO_ERROR_INVALID_ARGUMENT,
              "the header '" + name + "' has a line break in its name or value"));
      return;
    }
    text += name + ": " + value + "\r\n";
  }
  text += "\r\n";
  hs->request_text = std::move (text);

  hs->client = g_socket_client_new ();
  g_socket_client_set_tls (hs->client, tls);
  if (tls && request.tls_database) {
    g_signal_connect_data (hs->client, "event", G_CALLBACK (+[] (GSocketClient *,
                GSocketClientEvent event, GSocketConnectable *, GIOStream * connection,
                gpointer db) {
              if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
                g_tls_connection_set_database (G_TLS_CONNECTION (connection),
                    G_TLS_DATABASE (db));
            }), g_object_ref (request.tls_database),
        [] (gpointer db, GClosure *) { g_object_unref (db); }, GConnectFlags (0));
  }
  g_socket_client_connect_to_uri_async (hs->client, connect_uri, default_port, hs->cancellable,
      on_connected, hs);
  g_free (connect_uri);
}

void
WebSocketClient::on_connected (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *hs = static_cast<Handshake *> (data);
  GError *error = nullptr;
  hs->connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result,
      &error);
  if (!hs->connection) {
    finish_handshake (hs, nullptr, 0, error);
    return;
  }
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (hs->connection));
  g_output_stream_write_all_async (out, hs->request_text.data (), hs->request_text.size (),
      G_PRIORITY_DEFAULT, hs->cancellable, on_request_written, hs);
}

void
WebSocketClient::on_request_written (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *hs = static_cast<Handshake *> (data);
  GError *error = nullptr;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, nullptr, &error)) {
    finish_handshake (hs, nullptr, 0, error);
    return;
  }
  hs->response.resize (4096);
  read_response (hs);
}

void
WebSocketClient::read_response (Handshake * hs)
{
  if (hs->response.size () - hs->response_len < 1024)
    hs->response.resize (hs->response.size () * 2);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (hs->connection));
  g_input_stream_read_async (in, hs->response.data () + hs->response_len,
      hs->response.size () - hs->response_len, G_PRIORITY_DEFAULT, hs->cancellable,
      on_response_read, hs);
}

void
WebSocketClient::on_response_read (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *hs = static_cast<Handshake *> (data);
  GError *error = nullptr;
  gssize count = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (count < 0) {
    finish_handshake (hs, nullptr, 0, error);
    return;
  }
  if (count == 0) {
    finish_handshake (hs, nullptr, 0, make_error (G_IO_ERROR_CONNECTION_CLOSED,
            "the server closed the connection before answering the WebSocket upgrade"));
    return;
  }
  const gsize searched_from = hs->response_len >= 3 ? hs->response_len - 3 : 0;
  hs->response_len += count;
  const char *begin = hs->response.data ();
  const char *end = static_cast<const char *> (g_strstr_len (begin + searched_from,
          hs->response_len - searched_from, "\r\n\r\n"));
  if (!end) {
    if (hs->response_len > kMaxResponseHeader) {
      finish_handshake (hs, nullptr, 0, make_error (G_IO_ERROR_INVALID_DATA,
              "the server's answer to the WebSocket upgrade has no end of header"));
      return;
    }
    read_response (hs);
    return;
  }
  const gsize header_len = end + 4 - begin;

  SoupMessageHeaders *headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  guint status = 0;
  char *reason = nullptr;
  std::string problem;
  if (!soup_headers_parse_response (begin, header_len, headers, nullptr, &status, &reason)) {
    problem = "the server's answer to the WebSocket upgrade is not HTTP";
    status = 0;
  } else if (status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
    problem = "the server answered HTTP " + std::to_string (status) + " "
        + (reason ? reason : "") + " instead of switching to WebSocket";
  } else {
    const char *upgrade = soup_message_headers_get_one (headers, "Upgrade");
    const char *accept = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
    const char *extensions = soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions");
    if (!upgrade || g_ascii_strcasecmp (upgrade, "websocket") != 0
        || !soup_message_headers_header_contains (headers, "Connection", "upgrade"))
      problem = "the server's 101 answer does not upgrade to websocket";
    else if (!accept || ws_accept_for_key (hs->key) != accept)
      problem = "the server's Sec-WebSocket-Accept does not match our key";
    else if (extensions && *extensions)
      problem = std::string ("the server chose an extension we did not offer: ") + extensions;
  }
  g_free (reason);
  soup_message_headers_unref (headers);
  if (!problem.empty ()) {
    finish_handshake (hs, nullptr, status == SOUP_STATUS_SWITCHING_PROTOCOLS ? 0 : status,
        make_error (G_IO_ERROR_FAILED, problem));
    return;
  }

  GSocket *socket = g_socket_connection_get_socket (hs->connection);
  /* Small messages every 20 ms: Nagle would hold them back. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
  std::vector<guint8> leftover (begin + header_len, begin + hs->response_len);
  std::shared_ptr<WebSocketClient> ws (new WebSocketClient (G_IO_STREAM (hs->connection),
          socket, hs->request, std::move (leftover)));
  finish_handshake (hs, std::move (ws), SOUP_STATUS_SWITCHING_PROTOCOLS, nullptr);
}

void
WebSocketClient::finish_handshake (Handshake * hs, std::shared_ptr<WebSocketClient> ws,
    guint status, GError * error)
{
  std::unique_ptr<Handshake> owned (hs);
  if (ws)
    ws->start_reading ();
  hs->done (std::move (ws), status, error);
  if (error)
    g_error_free (error);
}

/* ---- the open connection ---- */

WebSocketClient::WebSocketClient (GIOStream * stream, GSocket * socket,
    const Request & request, std::vector<guint8> leftover)
  : stream_ (G_IO_STREAM (g_object_ref (stream))),
    socket_ (G_SOCKET (g_object_ref (socket))),
    input_ (G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream))),
    output_ (G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream))),
    reader_ (request.max_message_size),
    writer_ (output_, [this] {
          auto keep = shared_from_this ();
          flush_output ();
        }),
    max_unsent_ (request.max_unsent)
{
  if (!leftover.empty ()) {
    memcpy (reader_.space (leftover.size ()), leftover.data (), leftover.size ());
    reader_.commit (leftover.size ());
  }
}

WebSocketClient::~WebSocketClient ()
{
  release_io ();
  g_clear_object (&stream_);
  g_clear_object (&socket_);
}

void
WebSocketClient::set_handlers (TextHandler on_text, ClosedHandler on_closed)
{
  on_text_ = std::move (on_text);
  on_closed_ = std::move (on_closed);
}

void
WebSocketClient::clear_handlers ()
{
  on_text_ = nullptr;
  on_closed_ = nullptr;
}

void
WebSocketClient::start_reading ()
{
  /* On the I/O thread the socket joins its epoll set (io_poller.h), so a
   * pass costs the sockets that are ready, not GLib's poll over every
   * call's. Elsewhere (a context of its own) the socket's own source, not
   * the stream's pollable source: that one has a child source, and GLib
   * takes every dispatched source's fd out of the poll set and puts it back
   * (two wakeup writes per message) unless it may recurse. Either way reads
   * drain the stream (a TLS one too), so nothing stays buffered above the
   * socket while it is not readable. */
  if (IoThread::is_current ()) {
    read_watch_ = IoPoller::watch (g_socket_get_fd (socket_), EPOLLIN,
        [this] (guint32) { on_readable (nullptr, G_IO_IN, this); });
  }
  if (read_watch_ == 0) {
    read_source_ = g_socket_create_source (socket_,
        static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
    g_source_set_callback (read_source_, G_SOURCE_FUNC (on_readable), this, nullptr);
    g_source_set_can_recurse (read_source_, TRUE);
    g_source_attach (read_source_, g_main_context_get_thread_default ());
  }
  /* The upgrade answer may have come with the first frames. */
  if (reader_.buffered () > 0) {
    GSource *idle = g_idle_source_new ();
    std::weak_ptr<WebSocketClient> weak = shared_from_this ();
    g_source_set_callback (idle, [] (gpointer data) -> gboolean {
          auto *w = static_cast<std::weak_ptr<WebSocketClient> *> (data);
          if (auto ws = w->lock ())
            on_readable (nullptr, G_IO_IN, ws.get ());
          return G_SOURCE_REMOVE;
        }, new std::weak_ptr<WebSocketClient> (weak),
        [] (gpointer data) { delete static_cast<std::weak_ptr<WebSocketClient> *> (data); });
    g_source_attach (idle, g_main_context_get_thread_default ());
    g_source_unref (idle);
  }
}

gboolean
WebSocketClient::on_readable (GSocket *, GIOCondition, gpointer data)
{
  auto *self = static_cast<WebSocketClient *> (data);
  /* Handlers may drop the owner's reference. */
  auto keep = self->shared_from_this ();
  if (self->state_ == State::kClosed)
    return G_SOURCE_CONTINUE;
  bool end = !self->read_available ();

  while (self->state_ != State::kClosed) {
    WsFrameReader::Frame frame = self->reader_.next ();
    switch (frame.kind) {
      case WsFrameReader::Kind::kNeedMore:
        break;
      case WsFrameReader::Kind::kText:
        if (self->state_ == State::kOpen && self->on_text_)
          self->on_text_ (frame.data, frame.size);
        continue;
      case WsFrameReader::Kind::kBinary:
      case WsFrameReader::Kind::kPong:
        continue;
      case WsFrameReader::Kind::kPing:
        self->send_frame (WsOpcode::kPong, reinterpret_cast<const guint8 *> (frame.data),
            frame.size);
        continue;
      case WsFrameReader::Kind::kClose:
        if (self->state_ == State::kOpen) {
          /* Answer with the same code (RFC 6455 5.5.1), then we are done. */
          std::string payload = frame.close_code ? ws_close_payload (frame.close_code, "") : "";
          self->send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
              payload.size ());
        }
        self->finish (frame.close_code, frame.close_reason);
        continue;
      case WsFrameReader::Kind::kError:
        self->fail (frame.close_code, "protocol error: " + frame.error);
        continue;
    }
    break;
  }
  if (end && self->state_ != State::kClosed)
    self->finish (0, self->state_ == State::kClosing ? "" :
        "the connection ended without a close frame");
  return G_SOURCE_CONTINUE;
}

/* Reads what the socket has. Returns false at the end of the stream or on
 * an error (then the connection is finished). */
bool
WebSocketClient::read_available ()
{
  /* A TLS stream may hold decrypted bytes the socket no longer shows: read
   * until it would block (the read watch is on the socket only). */
  const bool drain = G_IS_TLS_CONNECTION (stream_) || G_IS_TCP_WRAPPER_CONNECTION (stream_);
  std::string error;
  switch (ws_read_available (input_, reader_, drain, &error)) {
    case WsReadResult::kOk:
      return true;
    case WsReadResult::kEnd:
      return false;
    case WsReadResult::kError:
      fail (kWsCloseAbnormal, "reading failed: " + error);
      return true;
  }
  return true;
}

void
WebSocketClient::send_text (const char * text, gsize size)
{
  send_frame (WsOpcode::kText, reinterpret_cast<const guint8 *> (text), size);
}

void
WebSocketClient::send_frame (WsOpcode opcode, const guint8 * payload, gsize size)
{
  if (state_ != State::kOpen)
    return;
  if (writer_.unsent () + size > max_unsent_) {
    fail (kWsCloseAbnormal, "the server has not read the last "
        + std::to_string (writer_.unsent () / 1024) + " KiB we sent");
    return;
  }
  ws_encode_client_frame (opcode, payload, size, g_random_int (), writer_.buffer ());
  if (!writer_.congested ())
    flush_output ();
}

void
WebSocketClient::flush_output ()
{
  std::string error;
  if (!writer_.flush (&error))
    fail (kWsCloseAbnormal, "writing failed: " + error);
}

void
WebSocketClient::set_keepalive (guint seconds)
{
  if (keepalive_source_) {
    g_source_destroy (keepalive_source_);
    g_clear_pointer (&keepalive_source_, g_source_unref);
  }
  if (seconds == 0)
    return;
  keepalive_source_ = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (keepalive_source_, on_keepalive, this, nullptr);
  g_source_attach (keepalive_source_, g_main_context_get_thread_default ());
}

gboolean
WebSocketClient::on_keepalive (gpointer data)
{
  auto *self = static_cast<WebSocketClient *> (data);
  auto keep = self->shared_from_this ();
  self->send_frame (WsOpcode::kPing, nullptr, 0);
  return G_SOURCE_CONTINUE;
}

void
WebSocketClient::close (guint16 code, const std::string & reason)
{
  if (state_ != State::kOpen)
    return;
  auto keep = shared_from_this ();
  std::string payload = ws_close_payload (code, reason);
  send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
      payload.size ());
  if (state_ != State::kOpen)
    return;     /* writing failed: already finished */
  state_ = State::kClosing;
  closing_self_ = shared_from_this ();
  close_timeout_ = g_timeout_source_new (kCloseTimeoutMs);
  g_source_set_callback (close_timeout_, on_close_timeout, this, nullptr);
  g_source_attach (close_timeout_, g_main_context_get_thread_default ());
}

gboolean
WebSocketClient::on_close_timeout (gpointer data)
{
  auto *self = static_cast<WebSocketClient *> (data);
  auto keep = self->shared_from_this ();
  self->finish (0, "the server did not answer our close frame");
  return G_SOURCE_REMOVE;
}

void
WebSocketClient::fail (guint16 code, const std::string & reason)
{
  if (state_ == State::kOpen && code != kWsCloseAbnormal) {
    std::string payload = ws_close_payload (code, "");
    send_frame (WsOpcode::kClose, reinterpret_cast<const guint8 *> (payload.data ()),
        payload.size ());
  }
  finish (0, reason);
}

void
WebSocketClient::finish (guint16 code, const std::string & reason)
{
  if (state_ == State::kClosed)
    return;
  /* The handler may drop the owner's reference; this one goes last. */
  std::shared_ptr<WebSocketClient> keep = shared_from_this ();
  state_ = State::kClosed;
  release_io ();
  ClosedHandler handler = std::move (on_closed_);
  clear_handlers ();
  closing_self_.reset ();
  if (handler)
    handler (code, reason);
}

void
WebSocketClient::release_io ()
{
  IoPoller::unwatch (read_watch_);     /* before the socket closes */
  read_watch_ = 0;
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
        [] (GObject * source, GAsyncResult * result, gpointer) {
          g_io_stream_close_finish (G_IO_STREAM (source), result, nullptr);
          g_object_unref (source);
        }, g_object_ref (stream_));
  }
}

}  // namespace voxbridge::realtime
