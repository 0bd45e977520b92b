/* WsOutput and ws_read_available over a socket pair: writes go at once while
 * the peer reads, wait on a write source while it does not and all arrive
 * in order once it reads again; reads stop at a short read and see the end
 * of the stream. */
#include <gtest/gtest.h>

#include <gio/gio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "websocket_stream.h"

using voxbridge::realtime::WsFrameReader;
using voxbridge::realtime::WsOutput;
using voxbridge::realtime::WsReadResult;
using voxbridge::realtime::ws_read_available;

namespace {

/* Our end as a GIOStream on a context of the test's own; the peer a raw fd. */
class WsStreamTest : public testing::Test {
 protected:
  void SetUp () override
  {
    int fds[2];
    ASSERT_EQ (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), 0);
    peer = fds[1];
    GSocket *socket = g_socket_new_from_fd (fds[0], nullptr);
    ASSERT_NE (socket, nullptr);
    g_socket_set_blocking (socket, FALSE);
    stream = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
    g_object_unref (socket);
    context = g_main_context_new ();
    g_main_context_push_thread_default (context);
  }
  void TearDown () override
  {
    g_main_context_pop_thread_default (context);
    g_main_context_unref (context);
    g_object_unref (stream);
    if (peer >= 0)
      close (peer);
  }
  GPollableOutputStream *output ()
  {
    return G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
  }
  GPollableInputStream *input ()
  {
    return G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  }
  /* What the peer can read now, without blocking. */
  std::string peer_reads ()
  {
    std::string got;
    char chunk[65536];
    ssize_t n;
    while ((n = recv (peer, chunk, sizeof (chunk), MSG_DONTWAIT)) > 0)
      got.append (chunk, n);
    return got;
  }

  GIOStream *stream = nullptr;
  GMainContext *context = nullptr;
  int peer = -1;
};

TEST_F (WsStreamTest, WritesAtOnceWhileThePeerReads)
{
  int writable_calls = 0;
  WsOutput out (output (), [&] { writable_calls++; });
  const std::string frame = "one frame";
  out.buffer ()->insert (out.buffer ()->end (), frame.begin (), frame.end ());
  std::string error;
  ASSERT_TRUE (out.flush (&error)) << error;
  EXPECT_FALSE (out.congested ());
  EXPECT_EQ (out.unsent (), 0u);
  EXPECT_EQ (peer_reads (), frame);
  EXPECT_EQ (writable_calls, 0);
}

TEST_F (WsStreamTest, WaitsWhileThePeerDoesNotReadThenDeliversAllInOrder)
{
  WsOutput *self = nullptr;
  std::string error;
  bool failed = false;
  WsOutput out (output (), [&] { failed = failed || !self->flush (&error); });
  self = &out;
  /* Numbered bytes until the socket is full: the rest waits in the output. */
  std::string sent;
  for (int chunk = 0; !out.congested () && chunk < 10000; chunk++) {
    std::string bytes (64 * 1024, static_cast<char> ('a' + chunk % 26));
    sent += bytes;
    out.buffer ()->insert (out.buffer ()->end (), bytes.begin (), bytes.end ());
    ASSERT_TRUE (out.flush (&error)) << error;
  }
  ASSERT_TRUE (out.congested ());
  EXPECT_GT (out.unsent (), 0u);
  /* More frames while congested are only appended. */
  const std::string tail = "the last frame";
  sent += tail;
  out.buffer ()->insert (out.buffer ()->end (), tail.begin (), tail.end ());

  std::string got;
  for (int i = 0; i < 100000 && got.size () < sent.size (); i++) {
    got += peer_reads ();
    g_main_context_iteration (context, FALSE);
  }
  EXPECT_FALSE (failed) << error;
  EXPECT_EQ (got.size (), sent.size ());
  EXPECT_TRUE (got == sent);
  EXPECT_FALSE (out.congested ());
  EXPECT_EQ (out.unsent (), 0u);
}

TEST_F (WsStreamTest, WritingToAClosedPeerFails)
{
  close (peer);
  peer = -1;
  WsOutput out (output (), [] {});
  const std::string frame (1024, 'x');
  std::string error;
  bool ok = true;
  /* The first write may still succeed into the socket buffer. */
  for (int i = 0; i < 10 && ok; i++) {
    out.buffer ()->insert (out.buffer ()->end (), frame.begin (), frame.end ());
    ok = out.flush (&error);
  }
  EXPECT_FALSE (ok);
  EXPECT_FALSE (error.empty ());
}

TEST_F (WsStreamTest, ReadsWhatThePeerSentThenSeesTheEnd)
{
  WsFrameReader reader (1024 * 1024);
  std::string error;
  /* Nothing yet: it would block. */
  EXPECT_EQ (ws_read_available (input (), reader, false, &error), WsReadResult::kOk);
  EXPECT_EQ (reader.buffered (), 0u);
  ASSERT_EQ (write (peer, "abc", 3), 3);
  EXPECT_EQ (ws_read_available (input (), reader, false, &error), WsReadResult::kOk);
  EXPECT_EQ (reader.buffered (), 3u);
  close (peer);
  peer = -1;
  EXPECT_EQ (ws_read_available (input (), reader, true, &error), WsReadResult::kEnd);
}

}  // namespace
