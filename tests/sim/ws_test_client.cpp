#include "ws_test_client.h"

namespace voxbridge::test {

bool
run_until (const std::function<bool ()> &done, int timeout_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  bool timed_out = false;
  GSource *timeout = g_timeout_source_new (static_cast<guint> (timeout_ms));
  g_source_set_callback (timeout,
      [] (gpointer data) -> gboolean {
        *static_cast<bool *> (data) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out, nullptr);
  g_source_attach (timeout, context);
  while (!done () && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return done ();
}

static gboolean
accept_any_certificate (SoupMessage *, GTlsCertificate *, GTlsCertificateFlags, gpointer)
{
  return TRUE;  /* the tests' sims use self-signed certificates */
}

std::pair<guint, std::string>
http_get (const std::string &url, const Headers &headers)
{
  SoupSession *session = soup_session_new ();
  SoupMessage *msg = soup_message_new ("GET", url.c_str ());
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_certificate), nullptr);
  for (const auto &[name, value] : headers)
    soup_message_headers_append (soup_message_get_request_headers (msg), name.c_str (),
        value.c_str ());
  GBytes *body = soup_session_send_and_read (session, msg, nullptr, nullptr);
  std::string text;
  if (body) {
    gsize len;
    const char *data = static_cast<const char *> (g_bytes_get_data (body, &len));
    text.assign (data ? data : "", len);
    g_bytes_unref (body);
  }
  guint status = soup_message_get_status (msg);
  g_object_unref (msg);
  g_object_unref (session);
  return {status, text};
}

WsTestClient::WsTestClient () : session_ (soup_session_new ())
{
}

WsTestClient::~WsTestClient ()
{
  if (conn_) {
    g_signal_handlers_disconnect_by_data (conn_, this);
    if (soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN) {
      soup_websocket_connection_close (conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      run_until ([this] {
        return soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_CLOSED;
      }, 2000);
    }
    g_object_unref (conn_);
  }
  /* A pending connect holds the session; cancel it by aborting. */
  soup_session_abort (session_);
  if (!connect_done_ && msg_)
    run_until ([this] { return connect_done_; }, 2000);
  if (msg_)
    g_object_unref (msg_);
  for (JsonNode *node : events_)
    json_node_unref (node);
  g_object_unref (session_);
}

void
WsTestClient::connect_async (const std::string &url, const Headers &headers)
{
  msg_ = soup_message_new ("GET", url.c_str ());
  g_signal_connect (msg_, "accept-certificate", G_CALLBACK (accept_any_certificate), nullptr);
  for (const auto &[name, value] : headers)
    soup_message_headers_append (soup_message_get_request_headers (msg_), name.c_str (),
        value.c_str ());
  soup_session_websocket_connect_async (session_, msg_, nullptr, nullptr, G_PRIORITY_DEFAULT,
      nullptr, on_connected, this);
}

bool
WsTestClient::connect (const std::string &url, const Headers &headers, int timeout_ms)
{
  connect_async (url, headers);
  run_until ([this] { return connect_done_; }, timeout_ms);
  return is_open ();
}

bool
WsTestClient::is_open () const
{
  return conn_ && soup_websocket_connection_get_state (conn_) == SOUP_WEBSOCKET_STATE_OPEN;
}

void
WsTestClient::on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  auto *self = static_cast<WsTestClient *> (user_data);
  GError *error = nullptr;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  self->http_status_ = soup_message_get_status (self->msg_);
  self->connect_done_ = true;
  if (!conn) {
    g_error_free (error);
    return;
  }
  self->conn_ = conn;
  /* The sim's events can be large (whole session objects, audio). */
  g_object_set (conn, "max-incoming-payload-size", static_cast<guint64> (16 * 1024 * 1024),
      nullptr);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
}

void
WsTestClient::on_message (SoupWebsocketConnection *, gint type, GBytes *message,
    gpointer user_data)
{
  auto *self = static_cast<WsTestClient *> (user_data);
  gsize len;
  const char *data = static_cast<const char *> (g_bytes_get_data (message, &len));
  JsonParser *parser = json_parser_new ();
  if (json_parser_load_from_data (parser, data, static_cast<gssize> (len), nullptr) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    JsonNode *root = json_node_ref (json_parser_get_root (parser));
    self->events_.push_back (root);
    self->types_.push_back (
        json_object_get_string_member_with_default (json_node_get_object (root), "type", ""));
  } else {
    /* Keep a marker so a test can see the server sent garbage. */
    self->events_.push_back (json_node_new (JSON_NODE_NULL));
    self->types_.push_back ("<unparsable>");
  }
  g_object_unref (parser);
}

void
WsTestClient::send (const std::string &json)
{
  if (is_open ())
    soup_websocket_connection_send_text (conn_, json.c_str ());
}

void
WsTestClient::send_text_bytes (const std::string &bytes)
{
  if (!is_open ())
    return;
  GBytes *message = g_bytes_new (bytes.data (), bytes.size ());
  soup_websocket_connection_send_message (conn_, SOUP_WEBSOCKET_DATA_TEXT, message);
  g_bytes_unref (message);
}

void
WsTestClient::send_append (const std::vector<uint8_t> &bytes)
{
  gchar *b64 = g_base64_encode (bytes.data (), bytes.size ());
  send (std::string ("{\"type\":\"input_audio_buffer.append\",\"audio\":\"") + b64 + "\"}");
  g_free (b64);
}

JsonObject *
WsTestClient::wait_for (const std::string &type, int timeout_ms)
{
  size_t found = SIZE_MAX;
  auto scan = [&] {
    for (size_t i = cursor_; i < types_.size (); i++) {
      if (types_[i] == type) {
        found = i;
        return true;
      }
    }
    return false;
  };
  if (!run_until (scan, timeout_ms))
    return nullptr;
  cursor_ = found + 1;
  return json_node_get_object (events_[found]);
}

std::vector<JsonObject *>
WsTestClient::all (const std::string &type) const
{
  std::vector<JsonObject *> out;
  for (size_t i = 0; i < types_.size (); i++)
    if (types_[i] == type)
      out.push_back (json_node_get_object (events_[i]));
  return out;
}

std::vector<uint8_t>
WsTestClient::audio_received () const
{
  std::vector<uint8_t> out;
  for (JsonObject *ev : all ("response.output_audio.delta")) {
    gsize len;
    guchar *bytes = g_base64_decode (json_object_get_string_member (ev, "delta"), &len);
    out.insert (out.end (), bytes, bytes + len);
    g_free (bytes);
  }
  return out;
}

}  // namespace voxbridge::test
