/* The HTTP API on 127.0.0.1 (port 0), driven by a libsoup client: bearer
 * authentication, JSON shapes, metrics text, and server-sent events,
 * including a client that stops reading. The server runs on its own main
 * context thread, as in the daemon; the test thread is the client. */

#include <gtest/gtest.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <mutex>

#include "http_api.h"

using namespace voxbridge::launcher;

namespace {

constexpr const char *TOKEN = "s3cret-token";

/* CallControl with a fixed call table that records what it is asked. */
class RecordingCallControl : public CallControl {
 public:
  RecordingCallControl ()
  {
    CallInfo a;
    a.id = "call-1";
    a.direction = "inbound";
    a.state = "answered";
    a.from = "sip:+15550123@198.51.100.1";
    a.to = "sip:+15550100@203.0.113.5";
    a.route = "connect";
    a.codec = "PCMU";
    a.started_at_us = G_GINT64_CONSTANT (1740830400000000);
    a.answered_at_us = G_GINT64_CONSTANT (1740830401500000);
    a.pipeline_state = "PLAYING";
    a.headers = {{"User-to-User", "00aa;encoding=hex"}};
    a.variables = {{"voice", "alloy"}};
    CallInfo b;
    b.id = "call 2@host";
    b.direction = "outbound";
    b.state = "ringing";
    calls_ = {a, b};
  }

  std::vector<CallInfo> list_calls () const override
  {
    std::lock_guard<std::mutex> guard (lock_);
    return calls_;
  }

  std::optional<CallInfo> find_call (const std::string & id) const override
  {
    std::lock_guard<std::mutex> guard (lock_);
    for (const auto & c : calls_) {
      if (c.id == id)
        return c;
    }
    return std::nullopt;
  }

  bool hang_up (const std::string & id) override
  {
    std::lock_guard<std::mutex> guard (lock_);
    hung_up_.push_back (id);
    for (const auto & c : calls_) {
      if (c.id == id)
        return true;
    }
    return false;
  }

  DialResult dial (const DialRequest & request) override
  {
    std::lock_guard<std::mutex> guard (lock_);
    dialed_.push_back (request);
    DialResult result;
    if (request.route == "busy") {
      result.http_status = 503;
      result.error = "max-calls reached";
    } else {
      result.call_id = "out 1";
    }
    return result;
  }

  std::vector<std::string> hung_up () const
  {
    std::lock_guard<std::mutex> guard (lock_);
    return hung_up_;
  }

  std::vector<DialRequest> dialed () const
  {
    std::lock_guard<std::mutex> guard (lock_);
    return dialed_;
  }

 private:
  mutable std::mutex lock_;
  std::vector<CallInfo> calls_;
  std::vector<std::string> hung_up_;
  std::vector<DialRequest> dialed_;
};

struct Response {
  guint status = 0;
  std::string body;
  std::string content_type;
  std::string www_authenticate;
  std::string allow;
  std::string location;
};

class HttpApiTest : public ::testing::Test {
 protected:
  void start (HttpApiOptions options = {})
  {
    if (options.bearer_token.empty ())
      options.bearer_token = TOKEN;
    context_ = g_main_context_new ();
    g_main_context_push_thread_default (context_);
    api_ = std::make_unique<HttpApi> (calls_, hub_, registry_, options);
    GError *err = nullptr;
    ASSERT_TRUE (api_->listen ("127.0.0.1", 0, &err)) << err->message;
    g_main_context_pop_thread_default (context_);
    port_ = api_->port ();
    ASSERT_NE (port_, 0);
    loop_ = g_main_loop_new (context_, FALSE);
    thread_ = g_thread_new ("http-server", [] (gpointer loop) -> gpointer {
          GMainContext *context = g_main_loop_get_context (static_cast<GMainLoop *> (loop));
          g_main_context_push_thread_default (context);
          g_main_loop_run (static_cast<GMainLoop *> (loop));
          g_main_context_pop_thread_default (context);
          return nullptr;
        }, loop_);
    session_ = soup_session_new_with_options ("timeout", 10, nullptr);
  }

  void TearDown () override
  {
    if (session_)
      g_object_unref (session_);
    if (thread_) {
      g_main_loop_quit (loop_);
      g_thread_join (thread_);
      g_main_loop_unref (loop_);
    }
    if (context_) {
      g_main_context_push_thread_default (context_);
      api_.reset ();
      while (g_main_context_iteration (context_, FALSE)) {
      }
      g_main_context_pop_thread_default (context_);
      g_main_context_unref (context_);
    }
  }

  /* Runs @fn on the server's thread and waits for it. */
  void on_server (std::function<void ()> fn)
  {
    struct Call {
      std::function<void ()> fn;
      std::mutex lock;
      std::condition_variable done;
      bool finished = false;
    } call;
    call.fn = std::move (fn);
    g_main_context_invoke (context_, [] (gpointer data) -> gboolean {
          auto *c = static_cast<Call *> (data);
          c->fn ();
          std::lock_guard<std::mutex> guard (c->lock);
          c->finished = true;
          c->done.notify_one ();
          return G_SOURCE_REMOVE;
        }, &call);
    std::unique_lock<std::mutex> guard (call.lock);
    call.done.wait (guard, [&] { return call.finished; });
  }

  size_t event_streams ()
  {
    size_t n = 0;
    on_server ([&] { n = api_->event_stream_count (); });
    return n;
  }

  std::string url (const std::string & path) const
  {
    return "http://127.0.0.1:" + std::to_string (port_) + path;
  }

  SoupMessage *message (const char *method, const std::string & path, const char *token)
  {
    SoupMessage *msg = soup_message_new (method, url (path).c_str ());
    if (token) {
      std::string value = std::string ("Bearer ") + token;
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
          value.c_str ());
    }
    return msg;
  }

  Response request (const char *method, const std::string & path,
      const char *token = TOKEN, const std::string & body = "")
  {
    SoupMessage *msg = message (method, path, token);
    if (!body.empty ()) {
      GBytes *bytes = g_bytes_new (body.data (), body.size ());
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
      g_bytes_unref (bytes);
    }
    GError *err = nullptr;
    GBytes *bytes = soup_session_send_and_read (session_, msg, nullptr, &err);
    Response r;
    EXPECT_NE (bytes, nullptr) << (err ? err->message : "");
    g_clear_error (&err);
    if (bytes) {
      gsize size = 0;
      const char *data = static_cast<const char *> (g_bytes_get_data (bytes, &size));
      r.body.assign (data ? data : "", size);
      g_bytes_unref (bytes);
    }
    r.status = soup_message_get_status (msg);
    SoupMessageHeaders *h = soup_message_get_response_headers (msg);
    auto header = [&] (const char *name) {
      const char *v = soup_message_headers_get_one (h, name);
      return std::string (v ? v : "");
    };
    r.content_type = header ("Content-Type");
    r.www_authenticate = header ("WWW-Authenticate");
    r.allow = header ("Allow");
    r.location = header ("Location");
    g_object_unref (msg);
    return r;
  }

  /* Opens GET @path as an event stream; the test reads it line by line. */
  GDataInputStream *open_events (const std::string & path = "/events")
  {
    SoupMessage *msg = message ("GET", path, TOKEN);
    GError *err = nullptr;
    GInputStream *body = soup_session_send (session_, msg, nullptr, &err);
    EXPECT_NE (body, nullptr) << (err ? err->message : "");
    g_clear_error (&err);
    EXPECT_EQ (soup_message_get_status (msg), 200u);
    const char *type = soup_message_headers_get_content_type (
        soup_message_get_response_headers (msg), nullptr);
    EXPECT_STREQ (type, "text/event-stream");
    g_object_unref (msg);
    if (!body)
      return nullptr;
    GDataInputStream *lines = g_data_input_stream_new (body);
    g_object_unref (body);
    return lines;
  }

  static std::string read_line (GDataInputStream * stream)
  {
    GError *err = nullptr;
    gchar *line = g_data_input_stream_read_line_utf8 (stream, nullptr, nullptr, &err);
    EXPECT_NE (line, nullptr) << (err ? err->message : "end of stream");
    g_clear_error (&err);
    std::string out (line ? line : "<none>");
    g_free (line);
    return out;
  }

  /* Reads one SSE frame (lines up to the blank line). */
  static std::vector<std::string> read_frame (GDataInputStream * stream)
  {
    std::vector<std::string> lines;
    for (int i = 0; i < 10; i++) {
      std::string line = read_line (stream);
      if (line.empty () || line == "<none>")
        break;
      lines.push_back (line);
    }
    return lines;
  }

  RecordingCallControl calls_;
  EventHub hub_;
  MetricsRegistry registry_;
  std::unique_ptr<HttpApi> api_;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  SoupSession *session_ = nullptr;
  guint16 port_ = 0;
};

JsonNode *
parse_json (const std::string & text)
{
  JsonParser *parser = json_parser_new ();
  GError *err = nullptr;
  JsonNode *root = nullptr;
  if (json_parser_load_from_data (parser, text.c_str (), text.size (), &err))
    root = json_node_copy (json_parser_get_root (parser));
  else
    ADD_FAILURE () << "not JSON: " << text << ": " << err->message;
  g_clear_error (&err);
  g_object_unref (parser);
  return root;
}

}  // namespace

TEST_F (HttpApiTest, HealthNeedsNoToken)
{
  start ();
  Response r = request ("GET", "/health", nullptr);
  EXPECT_EQ (r.status, 200u);
  EXPECT_EQ (r.content_type, "application/json");
  EXPECT_EQ (r.body, "{\"status\":\"ok\"}");
}

struct AuthCase {
  const char *method;
  const char *path;
};

class HttpApiAuth : public HttpApiTest, public ::testing::WithParamInterface<AuthCase> {};

TEST_P (HttpApiAuth, RejectsMissingAndWrongTokens)
{
  start ();
  Response missing = request (GetParam ().method, GetParam ().path, nullptr);
  EXPECT_EQ (missing.status, 401u);
  EXPECT_EQ (missing.www_authenticate, "Bearer realm=\"voxbridge\"");
  EXPECT_EQ (missing.body, "{\"error\":\"bearer token required\"}");

  Response wrong = request (GetParam ().method, GetParam ().path, "s3cret-tokeN");
  EXPECT_EQ (wrong.status, 401u);
  EXPECT_EQ (wrong.www_authenticate, "Bearer realm=\"voxbridge\", error=\"invalid_token\"");

  Response prefix = request (GetParam ().method, GetParam ().path, "s3cret");
  EXPECT_EQ (prefix.status, 401u);
  EXPECT_TRUE (calls_.hung_up ().empty ());
  EXPECT_TRUE (calls_.dialed ().empty ());
}

INSTANTIATE_TEST_SUITE_P (Endpoints, HttpApiAuth, ::testing::Values (
    AuthCase {"GET", "/metrics"}, AuthCase {"GET", "/calls"}, AuthCase {"POST", "/calls"},
    AuthCase {"GET", "/calls/call-1"}, AuthCase {"DELETE", "/calls/call-1"},
    AuthCase {"GET", "/events"}, AuthCase {"GET", "/nothing"}));

TEST_F (HttpApiTest, WithoutAConfiguredTokenEverythingIsOpen)
{
  HttpApiOptions options;
  options.bearer_token = "";
  start (options);
  /* start() fills in the default token when empty: make a second server. */
  /* libsoup objects are not thread-safe: create and serve it on the server thread. */
  std::unique_ptr<HttpApi> open_api;
  bool listening = false;
  on_server ([&] {
        g_main_context_push_thread_default (context_);
        open_api = std::make_unique<HttpApi> (calls_, hub_, registry_, HttpApiOptions ());
        listening = open_api->listen ("127.0.0.1", 0, nullptr);
        g_main_context_pop_thread_default (context_);
      });
  ASSERT_TRUE (listening);
  const std::string open_url = "http://127.0.0.1:" + std::to_string (open_api->port ()) + "/calls";
  SoupMessage *msg = soup_message_new ("GET", open_url.c_str ());
  GBytes *bytes = soup_session_send_and_read (session_, msg, nullptr, nullptr);
  EXPECT_EQ (soup_message_get_status (msg), 200u);
  g_bytes_unref (bytes);
  g_object_unref (msg);
  on_server ([&] { open_api.reset (); });
  g_main_loop_quit (loop_);
  g_thread_join (thread_);
  thread_ = nullptr;
  g_main_loop_unref (loop_);
}

TEST_F (HttpApiTest, ListsCalls)
{
  start ();
  Response r = request ("GET", "/calls");
  ASSERT_EQ (r.status, 200u);
  EXPECT_EQ (r.content_type, "application/json");
  EXPECT_EQ (r.body,
      "{\"calls\":["
      "{\"id\":\"call-1\",\"direction\":\"inbound\",\"state\":\"answered\","
      "\"from\":\"sip:+15550123@198.51.100.1\",\"to\":\"sip:+15550100@203.0.113.5\","
      "\"route\":\"connect\",\"codec\":\"PCMU\",\"started_at\":\"2025-03-01T12:00:00.000Z\","
      "\"answered_at\":\"2025-03-01T12:00:01.500Z\"},"
      "{\"id\":\"call 2@host\",\"direction\":\"outbound\",\"state\":\"ringing\",\"from\":\"\","
      "\"to\":\"\",\"route\":\"\",\"codec\":\"\",\"started_at\":null,\"answered_at\":null}]}");
}

TEST_F (HttpApiTest, ShowsOneCallWithDetails)
{
  start ();
  Response r = request ("GET", "/calls/call-1");
  ASSERT_EQ (r.status, 200u);
  JsonNode *root = parse_json (r.body);
  ASSERT_NE (root, nullptr);
  JsonObject *o = json_node_get_object (root);
  EXPECT_STREQ (json_object_get_string_member (o, "id"), "call-1");
  EXPECT_STREQ (json_object_get_string_member (o, "pipeline_state"), "PLAYING");
  JsonArray *headers = json_object_get_array_member (o, "headers");
  ASSERT_EQ (json_array_get_length (headers), 1u);
  JsonObject *h = json_array_get_object_element (headers, 0);
  EXPECT_STREQ (json_object_get_string_member (h, "name"), "User-to-User");
  EXPECT_STREQ (json_object_get_string_member (h, "value"), "00aa;encoding=hex");
  EXPECT_STREQ (json_object_get_string_member (
          json_object_get_object_member (o, "variables"), "voice"), "alloy");
  json_node_unref (root);

  /* ids are percent-decoded */
  Response escaped = request ("GET", "/calls/call%202%40host");
  EXPECT_EQ (escaped.status, 200u) << escaped.body;

  Response missing = request ("GET", "/calls/nope");
  EXPECT_EQ (missing.status, 404u);
  EXPECT_EQ (missing.body, "{\"error\":\"no such call: nope\"}");
}

TEST_F (HttpApiTest, HangsUp)
{
  start ();
  Response r = request ("DELETE", "/calls/call-1");
  EXPECT_EQ (r.status, 204u);
  EXPECT_TRUE (r.body.empty ());
  Response missing = request ("DELETE", "/calls/nope");
  EXPECT_EQ (missing.status, 404u);
  EXPECT_EQ (calls_.hung_up (), (std::vector<std::string> {"call-1", "nope"}));
}

TEST_F (HttpApiTest, DialsOut)
{
  start ();
  Response r = request ("POST", "/calls", TOKEN,
      "{\"to\":\"sip:+15550111@trunk.example.com\",\"from\":\"+15550100\",\"route\":\"sales\","
      "\"variables\":{\"customer\":\"42\"}}");
  EXPECT_EQ (r.status, 202u);
  EXPECT_EQ (r.body, "{\"id\":\"out 1\",\"url\":\"/calls/out%201\"}");
  EXPECT_EQ (r.location, "/calls/out%201");
  auto dialed = calls_.dialed ();
  ASSERT_EQ (dialed.size (), 1u);
  EXPECT_EQ (dialed[0].to, "sip:+15550111@trunk.example.com");
  EXPECT_EQ (dialed[0].from, "+15550100");
  EXPECT_EQ (dialed[0].route, "sales");
  EXPECT_EQ (dialed[0].variables.at ("customer"), "42");

  Response busy = request ("POST", "/calls", TOKEN, "{\"to\":\"1\",\"route\":\"busy\"}");
  EXPECT_EQ (busy.status, 503u);
  EXPECT_EQ (busy.body, "{\"error\":\"max-calls reached\"}");
}

struct BadDial {
  std::string body;
  const char *error;
};

class HttpApiBadDial : public HttpApiTest, public ::testing::WithParamInterface<BadDial> {};

TEST_P (HttpApiBadDial, Answers400)
{
  start ();
  Response r = request ("POST", "/calls", TOKEN, GetParam ().body);
  EXPECT_EQ (r.status, 400u);
  EXPECT_NE (r.body.find (GetParam ().error), std::string::npos) << r.body;
  EXPECT_TRUE (calls_.dialed ().empty ());
}

INSTANTIATE_TEST_SUITE_P (Table, HttpApiBadDial, ::testing::Values (
    BadDial {"", "body is empty"},
    BadDial {"{\"to\":", "body is not JSON"},
    BadDial {"[1]", "must be a JSON object"},
    BadDial {"{}", "\\\"to\\\" is required"},
    BadDial {"{\"to\":5}", "\\\"to\\\" must be a string"},
    BadDial {"{\"to\":\"1\",\"route\":[]}", "\\\"route\\\" must be a string"},
    BadDial {"{\"to\":\"1\",\"variables\":[]}", "\\\"variables\\\" must be an object"},
    BadDial {"{\"to\":\"1\",\"variables\":{\"a\":1}}", "variable \\\"a\\\" must be a string"}));

TEST_F (HttpApiTest, AnswersWrongMethodsAndPaths)
{
  start ();
  Response r = request ("PUT", "/calls");
  EXPECT_EQ (r.status, 405u);
  EXPECT_EQ (r.allow, "GET, POST");
  EXPECT_EQ (request ("POST", "/calls/call-1").allow, "GET, DELETE");
  EXPECT_EQ (request ("POST", "/health").status, 405u);
  EXPECT_EQ (request ("DELETE", "/metrics").status, 405u);
  EXPECT_EQ (request ("GET", "/calls/a/b").status, 404u);
  EXPECT_EQ (request ("GET", "/").status, 404u);
}

TEST_F (HttpApiTest, ServesMetricsInPrometheusTextFormat)
{
  Counter & calls_total = registry_.add_counter ("voxbridge_calls_total", "Calls.", {"outcome"});
  calls_total.inc ({"completed"}, 3);
  start ();
  Response r = request ("GET", "/metrics");
  EXPECT_EQ (r.status, 200u);
  EXPECT_EQ (r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ (r.body, "# HELP voxbridge_calls_total Calls.\n"
      "# TYPE voxbridge_calls_total counter\n"
      "voxbridge_calls_total{outcome=\"completed\"} 3\n");
}

TEST_F (HttpApiTest, StreamsEventsAsTheyArePublished)
{
  HttpApiOptions options;
  options.chunks_in_flight = 2;   /* more events than chunks: the window must move */
  start (options);
  GDataInputStream *stream = open_events ();
  ASSERT_NE (stream, nullptr);
  EXPECT_EQ (read_frame (stream), (std::vector<std::string> {": voxbridge call events"}));

  for (int i = 0; i < 10; i++) {
    hub_.publish (CallEvent::now (CallEventType::CallerTranscript, "call-1",
            {{"text", "line " + std::to_string (i) + "\nnext"}}));
  }
  for (int i = 0; i < 10; i++) {
    auto frame = read_frame (stream);
    ASSERT_EQ (frame.size (), 3u);
    EXPECT_EQ (frame[0], "id: " + std::to_string (i + 1));
    EXPECT_EQ (frame[1], "event: transcript.caller");
    ASSERT_TRUE (g_str_has_prefix (frame[2].c_str (), "data: {"));
    JsonNode *data = parse_json (frame[2].substr (6));
    ASSERT_NE (data, nullptr);
    JsonObject *o = json_node_get_object (data);
    EXPECT_STREQ (json_object_get_string_member (o, "call_id"), "call-1");
    EXPECT_EQ (json_object_get_string_member (o, "text"),
        "line " + std::to_string (i) + "\nnext");
    json_node_unref (data);
  }

  /* An event published later still arrives. */
  hub_.publish (CallEvent::now (CallEventType::CallEnded, "call-1", {{"reason", "bye"}}));
  auto frame = read_frame (stream);
  ASSERT_EQ (frame.size (), 3u);
  EXPECT_EQ (frame[1], "event: call.ended");
  g_object_unref (stream);
}

TEST_F (HttpApiTest, FollowsOneCall)
{
  start ();
  GDataInputStream *stream = open_events ("/events?call=call-2");
  ASSERT_NE (stream, nullptr);
  read_frame (stream);
  hub_.publish (CallEvent::now (CallEventType::Dtmf, "call-1", {{"digit", "1"}}));
  hub_.publish (CallEvent::now (CallEventType::Dtmf, "call-2", {{"digit", "2"}}));
  auto frame = read_frame (stream);
  ASSERT_EQ (frame.size (), 3u);
  EXPECT_EQ (frame[0], "id: 2");
  EXPECT_NE (frame[2].find ("\"digit\":\"2\""), std::string::npos);
  g_object_unref (stream);
}

TEST_F (HttpApiTest, SendsKeepAliveComments)
{
  HttpApiOptions options;
  options.keepalive_ms = 50;
  start (options);
  GDataInputStream *stream = open_events ();
  ASSERT_NE (stream, nullptr);
  read_frame (stream);
  EXPECT_EQ (read_frame (stream), (std::vector<std::string> {": keep-alive"}));
  EXPECT_EQ (read_frame (stream), (std::vector<std::string> {": keep-alive"}));
  g_object_unref (stream);
}

TEST_F (HttpApiTest, ForgetsClientsThatGoAway)
{
  HttpApiOptions options;
  options.keepalive_ms = 20;   /* writing is how a closed connection shows */
  start (options);
  GDataInputStream *stream = open_events ();
  ASSERT_NE (stream, nullptr);
  read_frame (stream);
  EXPECT_EQ (event_streams (), 1u);
  EXPECT_EQ (hub_.subscriber_count (), 1u);
  g_object_unref (stream);   /* closes the connection */
  for (int i = 0; i < 200 && event_streams () > 0; i++)
    g_usleep (10000);
  EXPECT_EQ (event_streams (), 0u);
  EXPECT_EQ (hub_.subscriber_count (), 0u);
}

TEST_F (HttpApiTest, DropsAClientThatDoesNotRead)
{
  HttpApiOptions options;
  options.event_queue_capacity = 8;
  start (options);

  /* A raw connection that sends the request and never reads. */
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *connection = g_socket_client_connect_to_host (client, "127.0.0.1",
      port_, nullptr, nullptr);
  ASSERT_NE (connection, nullptr);
  const std::string request_text = std::string ("GET /events HTTP/1.1\r\nHost: test\r\n"
      "Authorization: Bearer ") + TOKEN + "\r\n\r\n";
  ASSERT_TRUE (g_output_stream_write_all (g_io_stream_get_output_stream (
              G_IO_STREAM (connection)), request_text.data (), request_text.size (), nullptr,
          nullptr, nullptr));
  for (int i = 0; i < 500 && hub_.subscriber_count () == 0; i++)
    g_usleep (2000);
  ASSERT_EQ (hub_.subscriber_count (), 1u);

  /* A reading client on the same hub must not be affected. */
  GDataInputStream *reader = open_events ();
  ASSERT_NE (reader, nullptr);
  read_frame (reader);
  ASSERT_EQ (hub_.subscriber_count (), 2u);

  const std::string big (64 * 1024, 'x');
  int published = 0;
  while (hub_.dropped_count () == 0 && published < 2000) {
    hub_.publish (CallEvent::now (CallEventType::AiText, "call-1", {{"text", big}}));
    published++;
    auto frame = read_frame (reader);
    ASSERT_EQ (frame.size (), 3u) << "the reading client fell behind";
  }
  EXPECT_EQ (hub_.dropped_count (), 1u) << "after " << published << " events";
  RecordProperty ("events_until_drop", published);
  EXPECT_EQ (hub_.subscriber_count (), 1u);
  for (int i = 0; i < 200 && event_streams () > 1; i++)
    g_usleep (10000);
  EXPECT_EQ (event_streams (), 1u);
  EXPECT_EQ (request ("GET", "/health", nullptr).status, 200u);

  /* The dropped connection ends: read what is buffered, then end of stream. */
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_socket_set_timeout (socket, 10);
  std::vector<char> buffer (1 << 16);
  gssize n;
  GError *err = nullptr;
  while ((n = g_socket_receive (socket, buffer.data (), buffer.size (), nullptr, &err)) > 0) {
  }
  EXPECT_EQ (n, 0) << (err ? err->message : "");
  g_clear_error (&err);
  g_object_unref (connection);
  g_object_unref (client);
  g_object_unref (reader);
}
