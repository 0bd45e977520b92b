/* RtpCall / RtpCallRegistry and the siprtp call binding: pure logic. */
#include <gtest/gtest.h>

#include <gio/gio.h>

#include <string>
#include <vector>

#include "rtp_call.h"
#include "siprtp_binding.h"

using namespace voxbridge;

namespace {

GSocket *
bound_socket (guint16 port = 0)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, port);
  EXPECT_TRUE (g_socket_bind (socket, address, FALSE, nullptr));
  g_object_unref (address);
  g_object_unref (loopback);
  return socket;
}

GSocketAddress *
inet_address (const char *host, guint16 port)
{
  return g_inet_socket_address_new_from_string (host, port);
}

}  // namespace

TEST (RtpCallRegistry, AddFindRemove)
{
  auto & registry = RtpCallRegistry::instance ();
  size_t before = registry.size ();
  GSocket *socket = bound_socket ();
  RtpMediaParams params;
  params.remote_address = "192.0.2.1";
  params.remote_port = 4000;

  auto call = registry.add ("unit-call-1", socket, params);
  ASSERT_TRUE (call);
  EXPECT_EQ (registry.size (), before + 1);
  EXPECT_EQ (call->id (), "unit-call-1");
  EXPECT_EQ (call->socket (), socket);
  EXPECT_NE (call->local_port (), 0);
  EXPECT_EQ (registry.find ("unit-call-1"), call);
  EXPECT_FALSE (registry.find ("unit-call-2"));

  /* The same id twice is refused. */
  EXPECT_FALSE (registry.add ("unit-call-1", socket, params));

  registry.remove ("unit-call-1");
  EXPECT_FALSE (registry.find ("unit-call-1"));
  EXPECT_EQ (registry.size (), before);
  registry.remove ("unit-call-1");    /* unknown ids are ignored */

  /* A holder keeps the call (and its socket) alive after removal. */
  EXPECT_EQ (call->params ().remote_port, 4000);
  g_object_unref (socket);
}

TEST (RtpCall, UpdateCallsListenersUntilRemoved)
{
  GSocket *socket = bound_socket ();
  RtpCall call ("unit-listeners", socket, RtpMediaParams ());
  g_object_unref (socket);

  std::vector<RtpMediaParams> seen_a, seen_b;
  guint a = call.add_listener ([&] (const RtpMediaParams & p) {
        seen_a.push_back (p);
      });
  guint b = call.add_listener ([&] (const RtpMediaParams & p) {
        seen_b.push_back (p);
      });
  EXPECT_NE (a, b);

  RtpMediaParams held;
  held.send = false;
  held.payload_type = 8;
  held.encoding_name = "PCMA";
  call.update (held);
  ASSERT_EQ (seen_a.size (), 1u);
  ASSERT_EQ (seen_b.size (), 1u);
  EXPECT_FALSE (seen_a[0].send);
  EXPECT_EQ (seen_b[0].payload_type, 8);
  EXPECT_FALSE (call.params ().send);

  call.remove_listener (a);
  call.update (RtpMediaParams ());
  EXPECT_EQ (seen_a.size (), 1u);
  EXPECT_EQ (seen_b.size (), 2u);
  EXPECT_TRUE (seen_b[1].send);
  call.remove_listener (b);
}

TEST (RtpCall, ListenerMayReadTheCall)
{
  GSocket *socket = bound_socket ();
  RtpCall call ("unit-reentrant", socket, RtpMediaParams ());
  g_object_unref (socket);
  guint16 port_seen = 0;
  call.add_listener ([&] (const RtpMediaParams &) {
        /* Called outside the call's lock: no deadlock. */
        port_seen = call.params ().remote_port;
      });
  RtpMediaParams params;
  params.remote_port = 1234;
  call.update (params);
  EXPECT_EQ (port_seen, 1234);
}

TEST (RtpCall, LatchAndRelatchOnRemoteChange)
{
  GSocket *socket = bound_socket ();
  RtpMediaParams params;
  params.remote_address = "192.0.2.1";
  params.remote_port = 4000;
  RtpCall call ("unit-latch", socket, params);
  g_object_unref (socket);

  EXPECT_EQ (call.latched_address (), nullptr);
  GSocketAddress *from = inet_address ("198.51.100.7", 31000);
  call.latch (from);
  g_object_unref (from);
  GSocketAddress *latched = call.latched_address ();
  ASSERT_NE (latched, nullptr);
  EXPECT_EQ (socket_address_to_string (latched), "198.51.100.7:31000");
  g_object_unref (latched);

  /* Hold with the same address keeps the latch... */
  params.send = false;
  call.update (params);
  latched = call.latched_address ();
  EXPECT_NE (latched, nullptr);
  g_clear_object (&latched);

  /* ...a re-INVITE to another address drops it. */
  params.remote_address = "192.0.2.99";
  call.update (params);
  EXPECT_EQ (call.latched_address (), nullptr);
}

TEST (SipRtpBinding, ParseHostPort)
{
  struct Case {
    const char *text;
    bool ok;
    const char *host;
    guint16 port;
  } cases[] = {
    {"127.0.0.1:5004", true, "127.0.0.1", 5004},
    {"example.org:40000", true, "example.org", 40000},
    {"[::1]:6000", true, "::1", 6000},
    {"::1:6000", false, "", 0},
    {"127.0.0.1", false, "", 0},
    {"127.0.0.1:", false, "", 0},
    {":5000", false, "", 0},
    {"127.0.0.1:0", false, "", 0},
    {"127.0.0.1:70000", false, "", 0},
    {"127.0.0.1:50x", false, "", 0},
  };
  for (const auto & c : cases) {
    std::string host;
    guint16 port = 0;
    EXPECT_EQ (parse_host_port (c.text, &host, &port), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ (host, c.host) << c.text;
      EXPECT_EQ (port, c.port) << c.text;
    }
  }
}

TEST (SipRtpBinding, G711FromParams)
{
  struct Case {
    guint8 pt;
    const char *encoding;
    guint rate;
    bool ok;
    G711 codec;
  } cases[] = {
    {0, "PCMU", 8000, true, G711::PCMU},
    {8, "PCMA", 8000, true, G711::PCMA},
    {8, "pcma", 8000, true, G711::PCMA},
    {96, "PCMA", 8000, true, G711::PCMA},
    {0, "PCMA", 8000, false, G711::PCMU},
    {8, "PCMU", 8000, false, G711::PCMU},
    {9, "G722", 8000, false, G711::PCMU},
    {18, "PCMU", 8000, false, G711::PCMU},
    {0, "PCMU", 16000, false, G711::PCMU},
  };
  for (const auto & c : cases) {
    RtpMediaParams params;
    params.payload_type = c.pt;
    params.encoding_name = c.encoding;
    params.clock_rate = c.rate;
    G711 codec = G711::PCMU;
    GError *error = nullptr;
    EXPECT_EQ (g711_from_params (params, &codec, &error), c.ok)
        << unsigned (c.pt) << " " << c.encoding;
    if (c.ok)
      EXPECT_EQ (codec, c.codec);
    else
      EXPECT_NE (error, nullptr);
    g_clear_error (&error);
  }
  EXPECT_EQ (g711_silence_byte (G711::PCMU), 0xff);
  EXPECT_EQ (g711_silence_byte (G711::PCMA), 0xd5);
}

TEST (SipRtpBinding, ExplicitPortIsSharedAndReleasedByTheLastUser)
{
  auto & registry = RtpCallRegistry::instance ();
  ExplicitRtpSettings receiver;
  receiver.address = "127.0.0.1";
  receiver.dtmf_payload_type = 101;
  GError *error = nullptr;
  auto first = CallBinding::bind_explicit (receiver, &error);
  ASSERT_TRUE (first) << error->message;
  guint16 port = first->call ().local_port ();
  ASSERT_NE (port, 0);
  std::string id = "port:" + std::to_string (port);
  EXPECT_EQ (first->call_id (), id);
  EXPECT_EQ (registry.find (id).get (), &first->call ());
  EXPECT_EQ (first->params ().payload_type, 0);
  EXPECT_EQ (first->params ().dtmf_payload_type, 101);

  /* The sender of the same port joins, adding the remote and the codec. */
  ExplicitRtpSettings sender;
  sender.address = "127.0.0.1";
  sender.port = port;
  sender.remote = "127.0.0.1:45678";
  sender.payload_type = 8u;
  auto generation = first->generation ();
  auto second = CallBinding::bind_explicit (sender, &error);
  ASSERT_TRUE (second) << error->message;
  EXPECT_EQ (&second->call (), &first->call ());
  EXPECT_NE (first->generation (), generation);
  EXPECT_EQ (first->params ().remote_address, "127.0.0.1");
  EXPECT_EQ (first->params ().remote_port, 45678);
  EXPECT_EQ (first->params ().payload_type, 8);
  EXPECT_EQ (first->params ().encoding_name, "PCMA");
  EXPECT_EQ (first->params ().dtmf_payload_type, 101);

  first.reset ();
  EXPECT_TRUE (registry.find (id));
  second.reset ();
  EXPECT_FALSE (registry.find (id));

  /* The socket was closed with the call: the port can be bound again. */
  ExplicitRtpSettings again;
  again.address = "127.0.0.1";
  again.port = port;
  auto third = CallBinding::bind_explicit (again, &error);
  ASSERT_TRUE (third) << error->message;
  EXPECT_EQ (third->call ().local_port (), port);
}

TEST (SipRtpBinding, BadExplicitSettingsAreErrors)
{
  GError *error = nullptr;
  ExplicitRtpSettings bad_remote;
  bad_remote.address = "127.0.0.1";
  bad_remote.remote = "nowhere";
  EXPECT_FALSE (CallBinding::bind_explicit (bad_remote, &error));
  ASSERT_NE (error, nullptr);
  g_clear_error (&error);

  ExplicitRtpSettings bad_codec;
  bad_codec.address = "127.0.0.1";
  bad_codec.payload_type = 9u;
  bad_codec.encoding = "G722";
  EXPECT_FALSE (CallBinding::bind_explicit (bad_codec, &error));
  g_clear_error (&error);

  ExplicitRtpSettings bad_address;
  bad_address.address = "not-an-address";
  EXPECT_FALSE (CallBinding::bind_explicit (bad_address, &error));
  g_clear_error (&error);

  EXPECT_FALSE (CallBinding::bind_call ("no-such-call", &error));
  EXPECT_TRUE (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  g_clear_error (&error);
}

TEST (SipRtpBinding, FollowsUpdatesOfASipdCall)
{
  GSocket *socket = bound_socket ();
  RtpMediaParams params;
  params.remote_address = "192.0.2.1";
  params.remote_port = 5000;
  auto call = RtpCallRegistry::instance ().add ("unit-sipd-call", socket,
      params);
  g_object_unref (socket);
  ASSERT_TRUE (call);

  GError *error = nullptr;
  auto binding = CallBinding::bind_call ("unit-sipd-call", &error);
  ASSERT_TRUE (binding);
  EXPECT_TRUE (binding->params ().send);
  auto generation = binding->generation ();

  params.send = false;
  call->update (params);
  EXPECT_NE (binding->generation (), generation);
  EXPECT_FALSE (binding->params ().send);

  /* Unbinding removes the listener; sipd's call stays registered. */
  binding.reset ();
  call->update (params);
  EXPECT_TRUE (RtpCallRegistry::instance ().find ("unit-sipd-call"));
  RtpCallRegistry::instance ().remove ("unit-sipd-call");
}
