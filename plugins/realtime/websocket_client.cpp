/* WebSocket client (RFC 6455) for Realtime sessions: the upgrade. */
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
          socket, hs->request, leftover));
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

namespace {

/* The I/O thread's epoll set (io_poller.h): a pass costs the sockets that
 * are ready, not GLib's poll over every call's. */
const WsReadWatch kIoPollerWatch = {
  [] (int fd, void (*ready) (gpointer), gpointer data) -> guint64 {
    return IoPoller::watch (fd, EPOLLIN, [ready, data] (guint32) { ready (data); });
  },
  [] (guint64 id) { IoPoller::unwatch (id); },
};

WsConnection::Options
client_options (GIOStream * stream, const WebSocketClient::Request & request)
{
  WsConnection::Options options;
  options.role = WsConnection::Role::kClient;
  options.max_message_size = request.max_message_size;
  options.max_unsent = request.max_unsent;
  /* A TLS stream may hold decrypted bytes the socket no longer shows. */
  options.drain_reads = G_IS_TLS_CONNECTION (stream) || G_IS_TCP_WRAPPER_CONNECTION (stream);
  /* Elsewhere (a context of its own) the socket's own GSource. */
  options.read_watch = IoThread::is_current () ? &kIoPollerWatch : nullptr;
  return options;
}

}  // namespace

WebSocketClient::WebSocketClient (GIOStream * stream, GSocket * socket,
    const Request & request, const std::vector<guint8> & leftover)
  : WsConnection (stream, socket, client_options (stream, request))
{
  if (!leftover.empty ())
    preload (leftover.data (), leftover.size ());
}

void
WebSocketClient::start_reading ()
{
  watch_reads ();
  /* The upgrade answer may have come with the first frames: handled once
   * the owner has set its handlers. */
  if (buffered () > 0) {
    GSource *idle = g_idle_source_new ();
    std::weak_ptr<WsConnection> weak = shared_from_this ();
    g_source_set_callback (idle, [] (gpointer data) -> gboolean {
          auto *w = static_cast<std::weak_ptr<WsConnection> *> (data);
          if (auto ws = w->lock ())
            on_readable (ws.get ());
          return G_SOURCE_REMOVE;
        }, new std::weak_ptr<WsConnection> (weak),
        [] (gpointer data) { delete static_cast<std::weak_ptr<WsConnection> *> (data); });
    g_source_attach (idle, g_main_context_get_thread_default ());
    g_source_unref (idle);
  }
}

}  // namespace voxbridge::realtime
