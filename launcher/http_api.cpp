/* HTTP API handlers and the server-sent event streams.
 *
 * An event stream hands at most options.chunks_in_flight chunks to libsoup
 * at a time (counted back down by SoupServerMessage::wrote-chunk); the rest
 * waits in the client's bounded EventHub queue. A client that does not read
 * therefore fills its queue, the hub drops it, and the stream is closed —
 * the publisher never waits and the daemon's memory stays bounded. */

#include "http_api.h"

#include <atomic>
#include <cstring>

#include "call_json.h"

namespace voxbridge::launcher {

namespace {

constexpr const char *CALLS_PREFIX = "/calls/";

void
respond_text (SoupServerMessage * msg, guint status, const char *content_type,
    const std::string & body)
{
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
      body.data (), body.size ());
}

void
respond_json (SoupServerMessage * msg, guint status, JsonNode * node)
{
  respond_text (msg, status, "application/json", json_node_to_text (node));
  json_node_unref (node);
}

void
respond_error (SoupServerMessage * msg, guint status, const std::string & message)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message.c_str ());
  json_builder_end_object (builder);
  respond_json (msg, status, json_builder_get_root (builder));
  g_object_unref (builder);
}

void
respond_method_not_allowed (SoupServerMessage * msg, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Allow", allow);
  respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
}

/* Comparison whose time does not depend on where the strings differ. */
bool
tokens_equal (const std::string & a, const std::string & b)
{
  if (a.size () != b.size () || b.empty ())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size (); i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

std::string
sse_frame (const CallEvent & event)
{
  return "id: " + std::to_string (event.sequence) + "\nevent: "
      + call_event_type_name (event.type) + "\ndata: "
      + format_call_event_json (event) + "\n\n";
}

}  // namespace

struct HttpApi::EventStream : std::enable_shared_from_this<EventStream> {
  HttpApi *api = nullptr;
  SoupServerMessage *msg = nullptr;           /* reference held until closed */
  std::shared_ptr<EventHub::Subscription> subscription;
  guint in_flight = 0;
  GSource *keepalive = nullptr;
  std::atomic<bool> pump_scheduled {false};
  bool closed = false;

  void append (const std::string & chunk)
  {
    soup_message_body_append (soup_server_message_get_response_body (msg),
        SOUP_MEMORY_COPY, chunk.data (), chunk.size ());
    in_flight++;
    soup_server_message_unpause (msg);
  }
};

namespace {

using WeakStream = std::weak_ptr<HttpApi::EventStream>;

void
delete_weak_stream (gpointer data)
{
  delete static_cast<WeakStream *> (data);
}

}  // namespace

HttpApi::HttpApi (CallControl & calls, EventHub & events, MetricsRegistry & metrics,
    HttpApiOptions options)
  : calls_ (calls), events_ (events), metrics_ (metrics), options_ (std::move (options)),
    context_ (g_main_context_ref_thread_default ()),
    server_ (soup_server_new ("server-header", "voxbridge ", nullptr))
{
  soup_server_add_handler (server_, nullptr, on_request, this, nullptr);
}

HttpApi::~HttpApi ()
{
  auto streams = streams_;
  for (const auto & stream : streams)
    close_event_stream (stream, false);
  soup_server_disconnect (server_);
  g_object_unref (server_);
  g_main_context_unref (context_);
}

bool
HttpApi::listen (const std::string & host, guint16 port, GError ** error)
{
  GInetAddress *address = host == "localhost"
      ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4)
      : g_inet_address_new_from_string (host.c_str ());
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "HTTP listen address '%s' is not an IP address", host.c_str ());
    return false;
  }
  GSocketAddress *socket_address = g_inet_socket_address_new (address, port);
  g_main_context_push_thread_default (context_);
  const bool ok = soup_server_listen (server_, socket_address, (SoupServerListenOptions) 0,
      error);
  g_main_context_pop_thread_default (context_);
  g_object_unref (socket_address);
  g_object_unref (address);
  return ok;
}

guint16
HttpApi::port () const
{
  GSList *uris = soup_server_get_uris (server_);
  const guint16 port = uris ? g_uri_get_port (static_cast<GUri *> (uris->data)) : 0;
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

bool
HttpApi::authorized (SoupServerMessage * msg)
{
  if (options_.bearer_token.empty ())
    return true;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *scheme = "Bearer ";
  if (authorization && g_ascii_strncasecmp (authorization, scheme, strlen (scheme)) == 0
      && tokens_equal (authorization + strlen (scheme), options_.bearer_token))
    return true;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "WWW-Authenticate", authorization
      ? "Bearer realm=\"voxbridge\", error=\"invalid_token\""
      : "Bearer realm=\"voxbridge\"");
  respond_error (msg, SOUP_STATUS_UNAUTHORIZED,
      authorization ? "invalid bearer token" : "bearer token required");
  return false;
}

void
HttpApi::on_request (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  auto *self = static_cast<HttpApi *> (user_data);
  const std::string method = soup_server_message_get_method (msg);
  const std::string p = path;

  if (p == "/health") {
    if (method != "GET")
      return respond_method_not_allowed (msg, "GET");
    return respond_text (msg, SOUP_STATUS_OK, "application/json", "{\"status\":\"ok\"}");
  }
  if (!self->authorized (msg))
    return;
  if (p == "/metrics") {
    if (method != "GET")
      return respond_method_not_allowed (msg, "GET");
    return respond_text (msg, SOUP_STATUS_OK, PROMETHEUS_TEXT_CONTENT_TYPE,
        self->metrics_.render ());
  }
  if (p == "/calls")
    return self->handle_calls (msg, method);
  if (g_str_has_prefix (path, CALLS_PREFIX)) {
    /* libsoup hands over the path decoded, so an id cannot hold a '/'. */
    const char *id = path + strlen (CALLS_PREFIX);
    if (!*id || strchr (id, '/'))
      return respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
    return self->handle_call (msg, method, id);
  }
  if (p == "/events") {
    if (method != "GET")
      return respond_method_not_allowed (msg, "GET");
    return self->start_event_stream (msg, query);
  }
  respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
}

void
HttpApi::handle_calls (SoupServerMessage * msg, const std::string & method)
{
  if (method == "GET") {
    JsonArray *array = json_array_new ();
    for (const CallInfo & call : calls_.list_calls ())
      json_array_add_element (array, call_info_to_json (call, false));
    JsonObject *object = json_object_new ();
    json_object_set_array_member (object, "calls", array);
    JsonNode *root = json_node_init_object (json_node_alloc (), object);
    json_object_unref (object);
    return respond_json (msg, SOUP_STATUS_OK, root);
  }
  if (method != "POST")
    return respond_method_not_allowed (msg, "GET, POST");

  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  GBytes *bytes = soup_message_body_flatten (body);
  gsize size = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (bytes, &size));
  DialRequest request;
  std::string error;
  const bool parsed = parse_dial_request (std::string (data ? data : "", size), request, error);
  g_bytes_unref (bytes);
  if (!parsed)
    return respond_error (msg, SOUP_STATUS_BAD_REQUEST, error);

  DialResult result = calls_.dial (request);
  if (!result.ok ())
    return respond_error (msg, result.http_status ? result.http_status
        : (guint) SOUP_STATUS_INTERNAL_SERVER_ERROR, result.error);
  gchar *escaped = g_uri_escape_string (result.call_id.c_str (), nullptr, FALSE);
  const std::string url = std::string (CALLS_PREFIX) + escaped;
  g_free (escaped);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Location", url.c_str ());
  JsonObject *object = json_object_new ();
  json_object_set_string_member (object, "id", result.call_id.c_str ());
  json_object_set_string_member (object, "url", url.c_str ());
  JsonNode *root = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
  respond_json (msg, SOUP_STATUS_ACCEPTED, root);
}

void
HttpApi::handle_call (SoupServerMessage * msg, const std::string & method,
    const std::string & id)
{
  if (method == "GET") {
    auto call = calls_.find_call (id);
    if (!call)
      return respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such call: " + id);
    return respond_json (msg, SOUP_STATUS_OK, call_info_to_json (*call, true));
  }
  if (method == "DELETE") {
    if (!calls_.hang_up (id))
      return respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such call: " + id);
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, nullptr);
    return;
  }
  respond_method_not_allowed (msg, "GET, DELETE");
}

void
HttpApi::start_event_stream (SoupServerMessage * msg, GHashTable * query)
{
  const char *call_filter = query
      ? static_cast<const char *> (g_hash_table_lookup (query, "call")) : nullptr;
  auto stream = std::make_shared<EventStream> ();
  stream->api = this;
  stream->msg = SOUP_SERVER_MESSAGE (g_object_ref (msg));

  /* The hub calls this on the publishing thread: hand over to our context. */
  std::shared_ptr<GMainContext> context (g_main_context_ref (context_), g_main_context_unref);
  WeakStream weak = stream;
  stream->subscription = events_.subscribe (options_.event_queue_capacity,
      [weak, context] () {
        auto s = weak.lock ();
        if (!s || s->pump_scheduled.exchange (true))
          return;
        GSource *idle = g_idle_source_new ();
        g_source_set_callback (idle, [] (gpointer data) -> gboolean {
              auto s = static_cast<WeakStream *> (data)->lock ();
              if (s) {
                s->pump_scheduled = false;
                if (!s->closed)
                  s->api->pump_event_stream (s);
              }
              return G_SOURCE_REMOVE;
            }, new WeakStream (weak), delete_weak_stream);
        g_source_attach (idle, context.get ());
        g_source_unref (idle);
      }, call_filter ? call_filter : "");

  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (+[] (SoupServerMessage *, gpointer data) {
        auto s = static_cast<EventStream *> (data)->shared_from_this ();
        if (s->in_flight > 0)
          s->in_flight--;
        s->api->pump_event_stream (s);
      }), stream.get ());
  g_signal_connect (msg, "finished", G_CALLBACK (+[] (SoupServerMessage *, gpointer data) {
        auto s = static_cast<EventStream *> (data)->shared_from_this ();
        s->api->close_event_stream (s, false);
      }), stream.get ());

  stream->keepalive = g_timeout_source_new (options_.keepalive_ms);
  g_source_set_callback (stream->keepalive, [] (gpointer data) -> gboolean {
        auto s = static_cast<WeakStream *> (data)->lock ();
        if (s && !s->closed && s->in_flight < s->api->options_.chunks_in_flight)
          s->append (": keep-alive\n\n");
        return G_SOURCE_CONTINUE;
      }, new WeakStream (weak), delete_weak_stream);
  g_source_attach (stream->keepalive, context_);
  streams_.insert (stream);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (headers, "text/event-stream", nullptr);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  /* A first chunk so that the client sees the headers right away. */
  stream->append (": voxbridge call events\n\n");
}

void
HttpApi::pump_event_stream (const std::shared_ptr<EventStream> & stream)
{
  if (stream->closed)
    return;
  if (stream->subscription->overflowed ()) {
    g_message ("GET /events: client %s does not keep up, disconnecting it",
        soup_server_message_get_remote_host (stream->msg));
    close_event_stream (stream, true);
    return;
  }
  while (stream->in_flight < options_.chunks_in_flight) {
    auto events = stream->subscription->take (options_.chunks_in_flight - stream->in_flight);
    if (events.empty ())
      break;
    for (const CallEvent & event : events)
      stream->append (sse_frame (event));
  }
}

void
HttpApi::close_event_stream (const std::shared_ptr<EventStream> & stream, bool drop)
{
  if (stream->closed)
    return;
  stream->closed = true;
  events_.unsubscribe (stream->subscription);
  if (stream->keepalive) {
    g_source_destroy (stream->keepalive);
    g_source_unref (stream->keepalive);
    stream->keepalive = nullptr;
  }
  g_signal_handlers_disconnect_by_data (stream->msg, stream.get ());
  if (drop) {
    /* End the response and cut the connection: what is queued in the
     * socket may never be read. */
    soup_message_body_complete (soup_server_message_get_response_body (stream->msg));
    soup_server_message_unpause (stream->msg);
    if (GSocket *socket = soup_server_message_get_socket (stream->msg))
      g_socket_shutdown (socket, TRUE, TRUE, nullptr);
  }
  g_clear_object (&stream->msg);
  streams_.erase (stream);
}

}  // namespace voxbridge::launcher
