/* RtpReceiver over real loopback sockets: what a socket queued is delivered
 * in order with its sender, oversized datagrams are dropped without losing
 * the ones around them, deadlines fire, and remove() stops delivery. */
#include <gtest/gtest.h>

#include <gio/gio.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rtp_receiver.h"

using voxbridge::RtpReceiver;

namespace {

GSocket *
bound_udp_socket ()
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  EXPECT_TRUE (g_socket_bind (socket, address, FALSE, nullptr));
  g_object_unref (address);
  g_object_unref (loopback);
  return socket;
}

guint16
local_port (GSocket * socket)
{
  GSocketAddress *address = g_socket_get_local_address (socket, nullptr);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  g_object_unref (address);
  return port;
}

void
send_to (GSocket * from, GSocket * to, const std::string & bytes)
{
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, local_port (to));
  ASSERT_EQ (g_socket_send_to (from, address, bytes.data (), bytes.size (), nullptr, nullptr),
      static_cast<gssize> (bytes.size ()));
  g_object_unref (address);
  g_object_unref (loopback);
}

/* What the I/O thread handed over, for the test thread to wait on. */
struct Received {
  std::mutex lock;
  std::condition_variable changed;
  std::vector<std::string> datagrams;
  std::vector<guint16> from_ports;
  int deadlines = 0;

  RtpReceiver::Handler handler (gint64 delay = RtpReceiver::kNoDeadline)
  {
    return [this, delay] (const guint8 * data, gsize size, const struct sockaddr_storage & from,
        socklen_t) -> gint64 {
      std::lock_guard<std::mutex> guard (lock);
      datagrams.emplace_back (reinterpret_cast<const char *> (data), size);
      from_ports.push_back (g_ntohs (reinterpret_cast<const struct sockaddr_in &> (from).sin_port));
      changed.notify_all ();
      return delay;
    };
  }

  bool wait_for (size_t count, int seconds = 5)
  {
    std::unique_lock<std::mutex> guard (lock);
    return changed.wait_for (guard, std::chrono::seconds (seconds),
        [&] { return datagrams.size () >= count; });
  }
};

/* A receiving socket and a peer sending to it from a port of its own. */
class RtpReceiverTest : public testing::Test {
 protected:
  void TearDown () override
  {
    g_object_unref (peer);
    g_object_unref (socket);
  }
  GSocket *socket = bound_udp_socket ();
  GSocket *peer = bound_udp_socket ();
  Received received;
};

TEST_F (RtpReceiverTest, DeliversEveryQueuedDatagramInOrderWithItsSender)
{
  /* Queued before the receiver watches the socket: one turn finds them all. */
  const int kCount = 50;        /* more than one turn takes */
  for (int i = 0; i < kCount; i++)
    send_to (peer, socket, "packet " + std::to_string (i));

  guint64 id = RtpReceiver::add (socket, received.handler ());
  ASSERT_NE (id, 0u);
  ASSERT_TRUE (received.wait_for (kCount));
  RtpReceiver::remove (id);

  ASSERT_EQ (received.datagrams.size (), static_cast<size_t> (kCount));
  for (int i = 0; i < kCount; i++) {
    EXPECT_EQ (received.datagrams[i], "packet " + std::to_string (i));
    EXPECT_EQ (received.from_ports[i], local_port (peer));
  }
}

TEST_F (RtpReceiverTest, DropsAnOversizedDatagramAndKeepsTheOnesAroundIt)
{
  guint64 id = RtpReceiver::add (socket, received.handler ());
  ASSERT_NE (id, 0u);

  send_to (peer, socket, "before");
  send_to (peer, socket, std::string (9000, 'x'));
  send_to (peer, socket, "after");
  ASSERT_TRUE (received.wait_for (2));
  /* Nothing else arrives: the oversized one is not delivered cut short. */
  std::this_thread::sleep_for (std::chrono::milliseconds (100));
  RtpReceiver::remove (id);
  EXPECT_EQ (received.datagrams, (std::vector<std::string> { "before", "after" }));
}

TEST_F (RtpReceiverTest, CallsTheDeadlineAHandlerAskedFor)
{
  std::atomic<gint64> fired_at { 0 };
  guint64 id = RtpReceiver::add (socket, received.handler (30 * 1000), [&] () -> gint64 {
        fired_at = g_get_monotonic_time ();
        std::lock_guard<std::mutex> guard (received.lock);
        received.deadlines++;
        received.changed.notify_all ();
        return RtpReceiver::kNoDeadline;
      });
  ASSERT_NE (id, 0u);
  const gint64 sent_at = g_get_monotonic_time ();
  send_to (peer, socket, "asks for a deadline in 30 ms");
  {
    std::unique_lock<std::mutex> guard (received.lock);
    ASSERT_TRUE (received.changed.wait_for (guard, std::chrono::seconds (5),
            [&] { return received.deadlines == 1; }));
  }
  /* Never early; once only (the callback asked for no other). */
  EXPECT_GE (fired_at - sent_at, 30 * 1000);
  std::this_thread::sleep_for (std::chrono::milliseconds (100));
  RtpReceiver::remove (id);
  EXPECT_EQ (received.deadlines, 1);
}

TEST_F (RtpReceiverTest, DeliversNothingAfterRemove)
{
  guint64 id = RtpReceiver::add (socket, received.handler ());
  ASSERT_NE (id, 0u);
  send_to (peer, socket, "one");
  ASSERT_TRUE (received.wait_for (1));
  RtpReceiver::remove (id);
  send_to (peer, socket, "two");
  EXPECT_FALSE (received.wait_for (2, 1));
  EXPECT_EQ (received.datagrams, (std::vector<std::string> { "one" }));
}

}  // namespace
