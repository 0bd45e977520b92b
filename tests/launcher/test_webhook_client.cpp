/* WebhookClient against a local libsoup server on 127.0.0.1 (port 0), both on
 * the test's main context: a 200 with the body and the bearer token seen by
 * the server, a 500, an answer that never comes (timeout), nobody listening,
 * a bad URL, an oversized answer, and a client destroyed with a request in
 * flight (no callback). */

#include <gtest/gtest.h>
#include <libsoup/soup.h>

#include <optional>
#include <string>

#include "webhook_client.h"

using namespace voxbridge::launcher;

namespace {

class WebhookClientTest : public ::testing::Test {
 protected:
  void SetUp () override
  {
    server_ = soup_server_new (nullptr, nullptr);
    soup_server_add_handler (server_, nullptr, on_request, this, nullptr);
    GError *err = nullptr;
    ASSERT_TRUE (soup_server_listen_local (server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err))
        << (err ? err->message : "");
    GSList *uris = soup_server_get_uris (server_);
    port_ = g_uri_get_port (static_cast<GUri *> (uris->data));
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  }

  void TearDown () override
  {
    for (SoupServerMessage *m : paused_)
      soup_server_message_unpause (m);
    soup_server_disconnect (server_);
    g_object_unref (server_);
    /* Let the closed connections finish. */
    while (g_main_context_iteration (nullptr, FALSE)) {
    }
  }

  std::string url (const std::string & path) const
  {
    return "http://127.0.0.1:" + std::to_string (port_) + path;
  }

  /* Posts and runs the main context until the callback (or 10 s). */
  WebhookResult post (WebhookClient & client, WebhookRequest request)
  {
    std::optional<WebhookResult> got;
    client.post_json (request, [&got] (const WebhookResult & r) { got = r; });
    EXPECT_FALSE (got.has_value ()) << "called back from inside post_json";
    const gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (!got && g_get_monotonic_time () < deadline)
      g_main_context_iteration (nullptr, TRUE);
    EXPECT_TRUE (got.has_value ()) << "no callback";
    return got.value_or (WebhookResult {});
  }

  static void on_request (SoupServer *, SoupServerMessage * msg, const char * path,
      GHashTable *, gpointer data)
  {
    auto *self = static_cast<WebhookClientTest *> (data);
    SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
    const char *auth = soup_message_headers_get_one (in, "Authorization");
    const char *type = soup_message_headers_get_content_type (in, nullptr);
    self->seen_auth_ = auth ? auth : "";
    self->seen_type_ = type ? type : "";
    self->seen_method_ = soup_server_message_get_method (msg);
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    GBytes *bytes = soup_message_body_flatten (body);
    gsize size = 0;
    const char *data_ = static_cast<const char *> (g_bytes_get_data (bytes, &size));
    self->seen_body_.assign (data_ ? data_ : "", size);
    g_bytes_unref (bytes);

    const std::string p = path;
    if (p == "/ok") {
      soup_server_message_set_status (msg, 200, nullptr);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
          "{\"order\":\"shipped\"}", 19);
    } else if (p == "/fail") {
      soup_server_message_set_status (msg, 500, nullptr);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, "boom", 4);
    } else if (p == "/big") {
      std::string big (4096, 'x');
      soup_server_message_set_status (msg, 200, nullptr);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
          big.data (), big.size ());
    } else if (p == "/never") {
      soup_server_message_pause (msg);   /* answers only at TearDown */
      self->paused_.push_back (msg);
    } else {
      soup_server_message_set_status (msg, 404, nullptr);
    }
  }

  SoupServer *server_ = nullptr;
  guint port_ = 0;
  std::vector<SoupServerMessage *> paused_;
  std::string seen_auth_, seen_type_, seen_method_, seen_body_;
};

TEST_F (WebhookClientTest, PostsJsonWithBearerTokenAndReturnsTheAnswer)
{
  WebhookClient client;
  WebhookRequest request;
  request.url = url ("/ok");
  request.json_body = "{\"tool\":\"lookup_order\"}";
  request.bearer_token = "t0ken";
  WebhookResult r = post (client, request);
  EXPECT_TRUE (r.ok ()) << r.error;
  EXPECT_EQ (r.status, 200u);
  EXPECT_EQ (r.body, "{\"order\":\"shipped\"}");
  EXPECT_EQ (seen_method_, "POST");
  EXPECT_EQ (seen_type_, "application/json");
  EXPECT_EQ (seen_auth_, "Bearer t0ken");
  EXPECT_EQ (seen_body_, "{\"tool\":\"lookup_order\"}");
  EXPECT_EQ (client.pending (), 0u);
}

TEST_F (WebhookClientTest, NoTokenNoAuthorizationHeader)
{
  WebhookClient client;
  WebhookRequest request;
  request.url = url ("/ok");
  request.json_body = "{}";
  EXPECT_TRUE (post (client, request).ok ());
  EXPECT_EQ (seen_auth_, "");
}

TEST_F (WebhookClientTest, ServerErrorIsAnAnswerButNotOk)
{
  WebhookClient client;
  WebhookRequest request;
  request.url = url ("/fail");
  request.json_body = "{}";
  WebhookResult r = post (client, request);
  EXPECT_FALSE (r.ok ());
  EXPECT_TRUE (r.error.empty ()) << r.error;
  EXPECT_EQ (r.status, 500u);
  EXPECT_EQ (r.reason, "Internal Server Error");
  EXPECT_EQ (r.body, "boom");
}

TEST_F (WebhookClientTest, NoAnswerInTimeIsATimeout)
{
  WebhookClient client;
  WebhookRequest request;
  request.url = url ("/never");
  request.json_body = "{}";
  request.timeout_ms = 300;
  const gint64 start = g_get_monotonic_time ();
  WebhookResult r = post (client, request);
  const double waited_ms = (g_get_monotonic_time () - start) / 1000.0;
  EXPECT_FALSE (r.ok ());
  EXPECT_TRUE (r.timed_out);
  EXPECT_EQ (r.status, 0u);
  EXPECT_EQ (r.error, "no answer within 300 ms");
  EXPECT_EQ (paused_.size (), 1u) << "the request did not reach the server";
  printf ("timeout of 300 ms reported after %.0f ms\n", waited_ms);
}

TEST_F (WebhookClientTest, NobodyListening)
{
  /* A port that was free a moment ago: bind, read, close. */
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any = g_inet_socket_address_new (lo, 0);
  ASSERT_TRUE (g_socket_bind (s, any, FALSE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address (s, nullptr);
  const guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (any);
  g_object_unref (lo);
  g_socket_close (s, nullptr);
  g_object_unref (s);

  WebhookClient client;
  WebhookRequest request;
  request.url = "http://127.0.0.1:" + std::to_string (port) + "/x";
  request.json_body = "{}";
  WebhookResult r = post (client, request);
  EXPECT_FALSE (r.ok ());
  EXPECT_FALSE (r.timed_out);
  EXPECT_FALSE (r.error.empty ());
  printf ("refused: %s\n", r.error.c_str ());
}

TEST_F (WebhookClientTest, BadUrlIsCalledBackAsAnError)
{
  WebhookClient client;
  for (const char *bad : {"not a url", "ftp://127.0.0.1/x", "http://"}) {
    WebhookRequest request;
    request.url = bad;
    request.json_body = "{}";
    WebhookResult r = post (client, request);
    EXPECT_FALSE (r.ok ()) << bad;
    EXPECT_NE (r.error.find ("is not an http:// or https:// URL"), std::string::npos)
        << bad << ": " << r.error;
  }
}

TEST_F (WebhookClientTest, OversizedAnswerIsAnError)
{
  WebhookClient client;
  WebhookRequest request;
  request.url = url ("/big");
  request.json_body = "{}";
  request.max_body_bytes = 1024;
  WebhookResult r = post (client, request);
  EXPECT_FALSE (r.ok ());
  EXPECT_EQ (r.error, "answer of 4096 bytes is larger than 1024 bytes");
}

TEST_F (WebhookClientTest, DestroyedClientDoesNotCallBack)
{
  bool called = false;
  {
    WebhookClient client;
    WebhookRequest request;
    request.url = url ("/never");
    request.json_body = "{}";
    request.timeout_ms = 200;
    client.post_json (request, [&called] (const WebhookResult &) { called = true; });
    /* Let the request reach the server. */
    const gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    while (paused_.empty () && g_get_monotonic_time () < deadline)
      g_main_context_iteration (nullptr, TRUE);
    EXPECT_EQ (client.pending (), 1u);
  }
  const gint64 until = g_get_monotonic_time () + 500 * 1000;
  while (g_get_monotonic_time () < until) {
    while (g_main_context_iteration (nullptr, FALSE)) {
    }
    g_usleep (10 * 1000);
  }
  EXPECT_FALSE (called);
}

}  // namespace
