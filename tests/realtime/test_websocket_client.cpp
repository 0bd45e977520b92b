/* The WebSocket client against a scripted loopback server: the upgrade's
 * failure modes, first frames arriving with the 101, ping/pong, the close
 * handshake and a server that vanishes. (The normal conversation runs
 * against the off-line Realtime server in test_realtime_integration.) */
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <atomic>
#include <thread>

#include "websocket_client.h"

using namespace voxbridge::realtime;

namespace {

/* One connection, served by @script on its own thread with plain sockets. */
class ScriptedServer {
 public:
  using Script = std::function<void (int fd, const std::string & request)>;

  explicit ScriptedServer (Script script)
  {
    listen_fd_ = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bind (listen_fd_, reinterpret_cast<struct sockaddr *> (&addr), sizeof (addr));
    listen (listen_fd_, 1);
    socklen_t len = sizeof (addr);
    getsockname (listen_fd_, reinterpret_cast<struct sockaddr *> (&addr), &len);
    port_ = ntohs (addr.sin_port);
    thread_ = std::thread ([this, script] {
          int fd = accept (listen_fd_, nullptr, nullptr);
          if (fd < 0)
            return;
          std::string request;
          char buf[4096];
          while (request.find ("\r\n\r\n") == std::string::npos) {
            ssize_t n = recv (fd, buf, sizeof (buf), 0);
            if (n <= 0)
              break;
            request.append (buf, n);
          }
          script (fd, request);
          ::close (fd);
        });
  }
  ~ScriptedServer ()
  {
    shutdown (listen_fd_, SHUT_RDWR);
    thread_.join ();
    ::close (listen_fd_);
  }
  std::string url () const { return "ws://127.0.0.1:" + std::to_string (port_) + "/v1/realtime?model=m"; }

 private:
  int listen_fd_;
  guint16 port_;
  std::thread thread_;
};

std::string
header_value (const std::string & request, const std::string & name)
{
  auto at = request.find (name + ": ");
  if (at == std::string::npos)
    return "";
  at += name.size () + 2;
  return request.substr (at, request.find ("\r\n", at) - at);
}

std::string
upgrade_answer (const std::string & request)
{
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " + ws_accept_for_key (header_value (request, "Sec-WebSocket-Key"))
      + "\r\n\r\n";
}

std::string
server_frame (guint8 first_byte, const std::string & payload)
{
  std::string f;
  f += static_cast<char> (first_byte);
  f += static_cast<char> (payload.size ());   /* tests keep payloads under 126 */
  return f + payload;
}

void
send_all (int fd, const std::string & bytes)
{
  ::send (fd, bytes.data (), bytes.size (), MSG_NOSIGNAL);
}

/* Reads one masked client frame: opcode and unmasked payload. */
bool
read_client_frame (int fd, guint8 * opcode, std::string * payload)
{
  guint8 head[2];
  if (recv (fd, head, 2, MSG_WAITALL) != 2)
    return false;
  *opcode = head[0] & 0x0f;
  gsize len = head[1] & 0x7f;
  if (len >= 126)
    return false;
  guint8 mask[4];
  if (recv (fd, mask, 4, MSG_WAITALL) != 4)
    return false;
  payload->assign (len, '\0');
  if (len && recv (fd, payload->data (), len, MSG_WAITALL) != static_cast<ssize_t> (len))
    return false;
  for (gsize i = 0; i < len; i++)
    (*payload)[i] ^= mask[i % 4];
  return true;
}

struct Outcome {
  std::shared_ptr<WebSocketClient> ws;
  bool connected = false;
  bool done = false;
  guint status = 0;
  std::string error;
  std::vector<std::string> texts;
  bool closed = false;
  guint16 close_code = 0;
  std::string close_reason;
};

/* Runs the client on a context of its own until @until holds (or 5 s). */
void
run_client (const std::string & url, Outcome * out, std::function<bool ()> until,
    std::function<void (Outcome *)> on_open = nullptr)
{
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  WebSocketClient::Request request;
  request.url = url;
  request.headers.emplace_back ("Authorization", "Bearer k");
  WebSocketClient::connect (request, nullptr,
      [out, on_open] (std::shared_ptr<WebSocketClient> ws, guint status, const GError * error) {
        out->done = true;
        out->status = status;
        if (error)
          out->error = error->message;
        if (!ws)
          return;
        out->connected = true;
        out->ws = ws;
        ws->set_handlers (
            [out] (const char * text, gsize size) { out->texts.emplace_back (text, size); },
            [out] (guint16 code, const std::string & reason) {
              out->closed = true;
              out->close_code = code;
              out->close_reason = reason;
            });
        if (on_open)
          on_open (out);
      });
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!until () && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (ctx, FALSE))
      g_usleep (1000);
  out->ws.reset ();
  /* Let a close handshake or async close finish before the context goes. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (ctx, FALSE);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
}

}  // namespace

TEST (WebSocketClient, RequestCarriesTheUpgradeAndOurHeaders)
{
  std::string seen;
  ScriptedServer server ([&] (int fd, const std::string & request) {
        seen = request;
        send_all (fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
      });
  Outcome out;
  run_client (server.url (), &out, [&] { return out.done; });
  EXPECT_FALSE (out.connected);
  EXPECT_EQ (out.status, 401u);
  EXPECT_NE (seen.find ("GET /v1/realtime?model=m HTTP/1.1\r\n"), std::string::npos) << seen;
  EXPECT_EQ (header_value (seen, "Upgrade"), "websocket");
  EXPECT_EQ (header_value (seen, "Sec-WebSocket-Version"), "13");
  EXPECT_EQ (header_value (seen, "Authorization"), "Bearer k");
  EXPECT_EQ (header_value (seen, "Sec-WebSocket-Key").size (), 24u);
}

TEST (WebSocketClient, BadUpgradeAnswersAreRefusedWithACause)
{
  struct Case {
    const char *what;
    std::function<std::string (const std::string &)> answer;
    const char *expect;
  } cases[] = {
    { "wrong accept", [] (const std::string &) {
        return std::string ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
      }, "Sec-WebSocket-Accept" },
    { "no upgrade header", [] (const std::string & r) {
        std::string a = upgrade_answer (r);
        return a.replace (a.find ("Upgrade: websocket\r\n"), 20, "");
      }, "does not upgrade" },
    { "extension not offered", [] (const std::string & r) {
        std::string a = upgrade_answer (r);
        return a.insert (a.size () - 2, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
      }, "extension" },
    { "not HTTP", [] (const std::string &) { return std::string ("SSH-2.0-x\r\n\r\n"); },
      "not HTTP" },
    { "closed at once", [] (const std::string &) { return std::string (); },
      "before answering" },
  };
  for (const auto & c : cases) {
    ScriptedServer server ([&] (int fd, const std::string & request) {
          send_all (fd, c.answer (request));
        });
    Outcome out;
    run_client (server.url (), &out, [&] { return out.done; });
    EXPECT_FALSE (out.connected) << c.what;
    EXPECT_NE (out.error.find (c.expect), std::string::npos) << c.what << ": " << out.error;
  }
}

TEST (WebSocketClient, HeaderWithLineBreakIsRefusedBeforeConnecting)
{
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  WebSocketClient::Request request;
  request.url = "ws://127.0.0.1:1/";
  request.headers.emplace_back ("api-key", "k\r\nX-Injected: 1");
  std::string error;
  bool done = false;
  WebSocketClient::connect (request, nullptr,
      [&] (std::shared_ptr<WebSocketClient> ws, guint, const GError * e) {
        done = true;
        EXPECT_EQ (ws, nullptr);
        error = e ? e->message : "";
      });
  EXPECT_TRUE (done);
  EXPECT_NE (error.find ("line break"), std::string::npos) << error;
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
}

TEST (WebSocketClient, FramesWithThe101PingPongAndServerClose)
{
  std::string pong, close_reply;
  guint8 pong_op = 0, close_op = 0;
  auto server = std::make_unique<ScriptedServer> ([&] (int fd, const std::string & request) {
        /* The first message rides in the same packet as the 101. */
        send_all (fd, upgrade_answer (request) + server_frame (0x81, "{\"n\":1}"));
        send_all (fd, server_frame (0x89, "hb"));
        read_client_frame (fd, &pong_op, &pong);
        send_all (fd, server_frame (0x01, "{\"n\"") + server_frame (0x80, ":2}"));
        send_all (fd, server_frame (0x88, std::string ("\x03\xe9", 2) + "done"));
        read_client_frame (fd, &close_op, &close_reply);
      });
  Outcome out;
  run_client (server->url (), &out, [&] { return out.closed; });
  server.reset ();   /* its thread has read everything we sent */
  ASSERT_TRUE (out.connected) << out.error;
  ASSERT_EQ (out.texts.size (), 2u);
  EXPECT_EQ (out.texts[0], "{\"n\":1}");
  EXPECT_EQ (out.texts[1], "{\"n\":2}");
  EXPECT_EQ (pong_op, 0xA);
  EXPECT_EQ (pong, "hb");
  EXPECT_TRUE (out.closed);
  EXPECT_EQ (out.close_code, 1001);
  EXPECT_EQ (out.close_reason, "done");
  EXPECT_EQ (close_op, 0x8);
  ASSERT_EQ (close_reply.size (), 2u);
  EXPECT_EQ (static_cast<guint8> (close_reply[1]), 0xe9);
}

TEST (WebSocketClient, OurTextAndCloseReachTheServerMasked)
{
  std::string got_text, got_close;
  guint8 op1 = 0, op2 = 0;
  auto server = std::make_unique<ScriptedServer> ([&] (int fd, const std::string & request) {
        send_all (fd, upgrade_answer (request));
        read_client_frame (fd, &op1, &got_text);
        read_client_frame (fd, &op2, &got_close);
        send_all (fd, server_frame (0x88, got_close));
      });
  Outcome out;
  bool sent = false;
  run_client (server->url (), &out, [&] { return out.closed; }, [&] (Outcome * o) {
        std::string msg = "{\"type\":\"input_audio_buffer.append\"}";
        o->ws->send_text (msg.data (), msg.size ());
        o->ws->close (kWsCloseNormal, "bye");
        sent = true;
      });
  server.reset ();   /* its thread has read everything we sent */
  ASSERT_TRUE (sent);
  EXPECT_EQ (op1, 0x1);
  EXPECT_EQ (got_text, "{\"type\":\"input_audio_buffer.append\"}");
  EXPECT_EQ (op2, 0x8);
  EXPECT_EQ (got_close, std::string ("\x03\xe8", 2) + "bye");
  EXPECT_TRUE (out.closed);
  EXPECT_EQ (out.close_code, 1000);
}

TEST (WebSocketClient, ServerVanishingIsReportedWithoutACode)
{
  ScriptedServer server ([&] (int fd, const std::string & request) {
        send_all (fd, upgrade_answer (request) + server_frame (0x81, "{}"));
      });
  Outcome out;
  run_client (server.url (), &out, [&] { return out.closed; });
  ASSERT_TRUE (out.connected);
  EXPECT_TRUE (out.closed);
  EXPECT_EQ (out.close_code, 0);
  EXPECT_NE (out.close_reason.find ("without a close frame"), std::string::npos)
      << out.close_reason;
}

TEST (WebSocketClient, ProtocolErrorFromTheServerClosesWith1002)
{
  std::string close_payload;
  guint8 op = 0;
  auto server = std::make_unique<ScriptedServer> ([&] (int fd, const std::string & request) {
        send_all (fd, upgrade_answer (request) + std::string ("\x81\x81" "abcd" "x", 7));
        read_client_frame (fd, &op, &close_payload);
      });
  Outcome out;
  run_client (server->url (), &out, [&] { return out.closed; });
  server.reset ();   /* its thread has read everything we sent */
  ASSERT_TRUE (out.connected);
  EXPECT_TRUE (out.closed);
  EXPECT_NE (out.close_reason.find ("masked"), std::string::npos) << out.close_reason;
  EXPECT_EQ (op, 0x8);
  ASSERT_GE (close_payload.size (), 2u);
  EXPECT_EQ ((static_cast<guint8> (close_payload[0]) << 8) | static_cast<guint8> (close_payload[1]),
      1002);
}

TEST (WebSocketClient, AServerThatStopsReadingFailsTheConnectionInsteadOfGrowingIt)
{
  std::atomic<bool> finished {false};
  auto server = std::make_unique<ScriptedServer> ([&] (int fd, const std::string & request) {
        int small = 4096;   /* keep the kernel's share small */
        setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof (small));
        send_all (fd, upgrade_answer (request));
        while (!finished)
          g_usleep (1000);
      });
  Outcome out;
  gsize sent = 0;
  run_client (server->url (), &out, [&] { return out.closed; }, [&] (Outcome * o) {
        std::string chunk (60000, 'a');
        for (int i = 0; i < 2000 && !o->closed; i++) {
          o->ws->send_text (chunk.data (), chunk.size ());
          sent += chunk.size ();
        }
      });
  finished = true;
  server.reset ();
  ASSERT_TRUE (out.connected) << out.error;
  EXPECT_TRUE (out.closed);
  EXPECT_NE (out.close_reason.find ("has not read"), std::string::npos) << out.close_reason;
  /* Failed at the limit (16 MiB plus what the kernel took), not after all 120 MB. */
  EXPECT_LT (sent, gsize (64) * 1024 * 1024);
}
