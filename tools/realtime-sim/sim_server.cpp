#include "sim_server.h"

#include "upgrade_check.h"

namespace voxbridge::sim {

namespace {

/* Until the session sets its own (Session: the service's 16 MiB). */
constexpr guint64 kDefaultMaxMessage = 16 * 1024 * 1024;
/* Unsent bytes beyond this mean the client stopped reading: the connection
 * is dropped instead of growing (libsoup's queue had no bound at all). */
constexpr gsize kMaxUnsent = 64 * 1024 * 1024;

}  // namespace

SimServer::SimServer (const SimOptions &options, SpeechSynthesizer *tts)
    : options_ (options), env_ {&options, tts, g_main_context_default ()}
{
}

SimServer::~SimServer ()
{
  if (server_) {
    g_signal_handlers_disconnect_by_data (server_, this);
    soup_server_disconnect (server_);
  }
  /* Sessions still here (shutdown timed out) close their WebSockets. */
  for (auto &[key, session] : sessions_)
    log_session (key);
  sessions_.clear ();
  if (server_)
    g_object_unref (server_);
}

bool
SimServer::start (std::string *url, std::string *error)
{
  GError *err = nullptr;
  server_ = soup_server_new ("server-header", "voxbridge-realtime-sim ", nullptr);

  SoupServerListenOptions listen_options = static_cast<SoupServerListenOptions> (0);
  if (options_.tls ()) {
    GTlsCertificate *cert = g_tls_certificate_new_from_files (options_.tls_cert.c_str (),
        options_.tls_key.c_str (), &err);
    if (!cert) {
      *error = std::string ("Could not load TLS certificate: ") + err->message;
      g_error_free (err);
      return false;
    }
    soup_server_set_tls_certificate (server_, cert);
    g_object_unref (cert);
    listen_options = SOUP_SERVER_LISTEN_HTTPS;
  }

  /* Vet the request before the WebSocket handshake is answered: a status set
   * here makes libsoup send that status (and body) instead of calling the
   * handler. */
  g_signal_connect (server_, "request-read", G_CALLBACK (on_request_read), this);
  for (const char *path : {kOpenAiPath, kAzurePath})
    soup_server_add_handler (server_, path, on_upgrade_request, this, nullptr);

  GSocketAddress *address = g_inet_socket_address_new_from_string (options_.host.c_str (),
      static_cast<guint> (options_.port));
  if (!address) {
    *error = "Invalid --host address '" + options_.host + "' (give a numeric IP address)";
    return false;
  }
  bool ok = soup_server_listen (server_, address, listen_options, &err);
  g_object_unref (address);
  if (!ok) {
    *error = std::string ("Could not listen on ") + options_.host + ":" +
        std::to_string (options_.port) + ": " + err->message;
    g_error_free (err);
    return false;
  }

  GSList *uris = soup_server_get_uris (server_);
  int port = uris ? g_uri_get_port (static_cast<GUri *> (uris->data)) : options_.port;
  g_slist_free_full (uris, reinterpret_cast<GDestroyNotify> (g_uri_unref));
  bool v6 = options_.host.find (':') != std::string::npos;
  *url = std::string (options_.tls () ? "wss://" : "ws://") + (v6 ? "[" : "") + options_.host +
      (v6 ? "]" : "") + ":" + std::to_string (port);
  return true;
}

void
SimServer::on_request_read (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  auto *self = static_cast<SimServer *> (user_data);
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  UpgradeRequest request;
  request.path = g_uri_get_path (uri) ? g_uri_get_path (uri) : "/";
  request.query = g_uri_get_query (uri) ? g_uri_get_query (uri) : "";
  if (const char *auth = soup_message_headers_get_one (headers, "Authorization"))
    request.authorization = std::string (auth);
  if (const char *key = soup_message_headers_get_one (headers, "api-key"))
    request.api_key = std::string (key);

  UpgradeVerdict verdict = check_upgrade_request (request, self->options_.api_key);
  if (verdict.status == 0 && self->options_.max_sessions > 0 &&
      self->sessions_.size () >= static_cast<size_t> (self->options_.max_sessions)) {
    verdict.status = SOUP_STATUS_SERVICE_UNAVAILABLE;
    verdict.body = "{\"error\":{\"message\":\"Too many concurrent sessions on this server "
                   "(--max-sessions " + std::to_string (self->options_.max_sessions) +
        ").\",\"type\":\"server_error\",\"code\":\"session_limit_reached\",\"param\":null}}";
  }
  if (verdict.status == 0)
    return;

  if (self->options_.verbose)
    g_printerr ("HTTP %u for %s %s\n", verdict.status, soup_server_message_get_method (msg),
        request.path.c_str ());
  soup_server_message_set_status (msg, verdict.status, nullptr);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      verdict.body.c_str (), verdict.body.size ());
}

/* What soup_server_add_websocket_handler did, short of creating a
 * SoupWebsocketConnection: the same handshake check and 101 answer (no
 * origin or protocol restriction, no extension), then the connection is
 * taken over once the 101 is written. */
void
SimServer::on_upgrade_request (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  if (!soup_websocket_server_process_handshake (msg, nullptr, nullptr, nullptr, nullptr))
    return;   /* it set the error status (400 or 403) */
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_upgraded), user_data);
}

void
SimServer::on_upgraded (SoupServerMessage *msg, gpointer user_data)
{
  auto *self = static_cast<SimServer *> (user_data);
  g_signal_handlers_disconnect_by_func (msg, reinterpret_cast<gpointer> (on_upgraded),
      user_data);
  GUri *uri = soup_server_message_get_uri (msg);
  std::string path = g_uri_get_path (uri) ? g_uri_get_path (uri) : "/";
  GHashTable *query = g_uri_get_query (uri) ? soup_form_decode (g_uri_get_query (uri)) : nullptr;
  const char *model = query ? static_cast<const char *> (g_hash_table_lookup (query, "model"))
                            : nullptr;
  std::string model_name = model ? model : "";
  if (query)
    g_hash_table_unref (query);

  GSocket *socket = soup_server_message_get_socket (msg);
  if (!socket)
    return;
  g_object_ref (socket);
  g_object_ref (msg);
  GIOStream *stream = soup_server_message_steal_connection (msg);
  g_object_unref (msg);
  if (!stream) {
    g_object_unref (socket);
    return;
  }
  realtime::WsConnection::Options ws;
  ws.role = realtime::WsConnection::Role::kServer;
  ws.max_message_size = kDefaultMaxMessage;
  ws.max_unsent = kMaxUnsent;
  ws.drain_reads = self->options_.tls ();
  std::shared_ptr<realtime::WsConnection> connection =
      realtime::WsConnection::create (stream, socket, ws);
  g_object_unref (stream);
  g_object_unref (socket);

  /* Upgrades racing past the limit check in request-read. */
  if (self->options_.max_sessions > 0 &&
      self->sessions_.size () >= static_cast<size_t> (self->options_.max_sessions)) {
    connection->start ();
    connection->close (1013 /* try again later */, "session limit reached");
    return;
  }

  self->connections_total_++;
  auto session = std::make_unique<Session> (self->env_, connection, model_name,
      [self] (Session *s) { self->remove_session (s); });
  if (self->options_.verbose)
    g_printerr ("[%s] opened (%s, model %s)\n", session->id ().c_str (), path.c_str (),
        model_name.c_str ());
  Session *key = session.get ();
  self->sessions_.emplace (key, std::move (session));
  /* Last: frames that came with the request are handled now, and a close
   * among them removes the session. */
  connection->start ();
}

void
SimServer::shutdown (int timeout_ms)
{
  if (!server_)
    return;
  soup_server_disconnect (server_);
  for (auto &[key, session] : sessions_)
    session->close ();
  bool timed_out = false;
  guint timer = g_timeout_add (static_cast<guint> (timeout_ms),
      [] (gpointer data) -> gboolean {
        *static_cast<bool *> (data) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out);
  while (!sessions_.empty () && !timed_out)
    g_main_context_iteration (env_.context, TRUE);
  if (!timed_out)
    g_source_remove (timer);
}

void
SimServer::remove_session (Session *session)
{
  auto it = sessions_.find (session);
  if (it == sessions_.end ())
    return;
  log_session (session);
  sessions_.erase (it);
}

void
SimServer::log_session (Session *session)
{
  const SessionStats &s = session->stats ();
  g_printerr ("session %s closed: appends=%" G_GUINT64_FORMAT " bytes_in=%" G_GUINT64_FORMAT
              " deltas_out=%" G_GUINT64_FORMAT " responses=%" G_GUINT64_FORMAT
              " cancels=%" G_GUINT64_FORMAT " truncates=%" G_GUINT64_FORMAT
              " errors=%" G_GUINT64_FORMAT "\n",
      session->id ().c_str (), s.appends, s.bytes_in, s.deltas_out, s.responses, s.cancels,
      s.truncates, s.errors);
}

}  // namespace voxbridge::sim
