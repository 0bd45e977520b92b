#pragma once
/* The launcher's HTTP API (libsoup 3 SoupServer):
 *   GET    /health        liveness, no authentication
 *   GET    /metrics       Prometheus text format
 *   GET    /calls         {"calls": [call, ...]}
 *   POST   /calls         dial out: {"to", "from"?, "route"?, "variables"?} -> 202 {"id", "url"}
 *   GET    /calls/{id}    one call with details
 *   DELETE /calls/{id}    hang up -> 204
 *   GET    /events        server-sent events of call events (?call=ID to follow one call)
 * Everything but /health requires "Authorization: Bearer <token>" when a
 * token is configured. The server runs on the main context that is the
 * thread default when the HttpApi is created. */

#include <libsoup/soup.h>

#include <memory>
#include <set>
#include <string>

#include "call_control.h"
#include "event_hub.h"
#include "metrics_registry.h"

namespace voxbridge::launcher {

struct HttpApiOptions {
  std::string bearer_token;          /* empty: no authentication */
  guint keepalive_ms = 15000;        /* SSE keep-alive comment interval */
  size_t event_queue_capacity = 256; /* events a slow SSE client may lag behind */
  guint chunks_in_flight = 4;        /* SSE chunks handed to libsoup, not yet written */
};

class HttpApi {
 public:
  HttpApi (CallControl & calls, EventHub & events, MetricsRegistry & metrics,
      HttpApiOptions options);
  ~HttpApi ();
  HttpApi (const HttpApi &) = delete;
  HttpApi & operator= (const HttpApi &) = delete;

  /* @host must be an IP address (or "localhost"); port 0 picks a free port. */
  bool listen (const std::string & host, guint16 port, GError ** error);
  /* The port listened on, 0 before listen(). */
  guint16 port () const;
  /* Connected GET /events clients; call on the server's main context. */
  size_t event_stream_count () const { return streams_.size (); }

  struct EventStream;   /* one GET /events client (http_api.cpp) */

 private:
  static void on_request (SoupServer * server, SoupServerMessage * msg,
      const char *path, GHashTable * query, gpointer user_data);
  bool authorized (SoupServerMessage * msg);
  void handle_calls (SoupServerMessage * msg, const std::string & method);
  void handle_call (SoupServerMessage * msg, const std::string & method,
      const std::string & id);
  void start_event_stream (SoupServerMessage * msg, GHashTable * query);
  void pump_event_stream (const std::shared_ptr<EventStream> & stream);
  void close_event_stream (const std::shared_ptr<EventStream> & stream, bool drop);

  CallControl & calls_;
  EventHub & events_;
  MetricsRegistry & metrics_;
  const HttpApiOptions options_;
  GMainContext *context_;
  SoupServer *server_;
  std::set<std::shared_ptr<EventStream>> streams_;
};

}  // namespace voxbridge::launcher
