#pragma once
/* The WebSocket client of a Realtime session: the upgrade over GIO
 * (GSocketClient for TCP, TLS and proxies; libsoup's header parser for the
 * answer), then the client end of WsConnection (common/websocket_connection.h),
 * watched by the I/O thread's epoll set when it runs there.
 *
 * Everything runs on the thread-default main context of the caller of
 * connect() (the sessions' I/O thread). */

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "websocket_connection.h"

namespace voxbridge::realtime {

class WebSocketClient final : public WsConnection {
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

  static void connect (const Request & request, GCancellable * cancellable, ConnectDone done);

 private:
  struct Handshake;

  WebSocketClient (GIOStream * stream, GSocket * socket, const Request & request,
      const std::vector<guint8> & leftover);
  static void on_connected (GObject * source, GAsyncResult * result, gpointer data);
  static void on_request_written (GObject * source, GAsyncResult * result, gpointer data);
  static void read_response (Handshake * hs);
  static void on_response_read (GObject * source, GAsyncResult * result, gpointer data);
  static void finish_handshake (Handshake * hs, std::shared_ptr<WebSocketClient> ws,
      guint status, GError * error);

  void start_reading ();
};

}  // namespace voxbridge::realtime
