/* IoPoller over socket pairs: callbacks run on the I/O thread, level-
 * triggered; unwatch() from another thread waits for a running callback; a
 * callback may remove itself and others; modify() switches the events. */
#include <gtest/gtest.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "io_poller.h"
#include "io_thread.h"

using voxbridge::IoPoller;
using voxbridge::IoThread;

namespace {

struct SocketPair {
  int fds[2] = { -1, -1 };
  SocketPair () { EXPECT_EQ (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~SocketPair ()
  {
    for (int fd : fds)
      if (fd >= 0)
        close (fd);
  }
  int ours () const { return fds[0]; }
  void peer_writes (const char * bytes) { ASSERT_GT (write (fds[1], bytes, strlen (bytes)), 0); }
  void peer_closes () { close (fds[1]); fds[1] = -1; }
};

/* Calls seen, for the test thread to wait on. */
struct Calls {
  std::mutex lock;
  std::condition_variable changed;
  std::vector<guint32> events;
  bool on_io_thread = true;

  void add (guint32 event)
  {
    std::lock_guard<std::mutex> guard (lock);
    events.push_back (event);
    on_io_thread = on_io_thread && IoThread::is_current ();
    changed.notify_all ();
  }
  bool wait_for (size_t count, int ms = 5000)
  {
    std::unique_lock<std::mutex> guard (lock);
    return changed.wait_for (guard, std::chrono::milliseconds (ms),
        [&] { return events.size () >= count; });
  }
  size_t count ()
  {
    std::lock_guard<std::mutex> guard (lock);
    return events.size ();
  }
};

TEST (IoPoller, CallsBackOnTheIoThreadUntilTheDataIsRead)
{
  SocketPair pair;
  Calls calls;
  /* One byte per call: level-triggered, the rest is reported again. */
  guint64 id = IoPoller::watch (pair.ours (), EPOLLIN, [&] (guint32 events) {
        char byte;
        ASSERT_EQ (read (pair.ours (), &byte, 1), 1);
        calls.add (events);
      });
  ASSERT_NE (id, 0u);
  pair.peer_writes ("abc");
  ASSERT_TRUE (calls.wait_for (3));
  std::this_thread::sleep_for (std::chrono::milliseconds (50));
  IoPoller::unwatch (id);
  EXPECT_EQ (calls.count (), 3u);
  EXPECT_TRUE (calls.on_io_thread);
  for (guint32 events : calls.events)
    EXPECT_TRUE (events & EPOLLIN);
}

TEST (IoPoller, ReportsThePeerClosing)
{
  SocketPair pair;
  Calls calls;
  guint64 id = IoPoller::watch (pair.ours (), EPOLLIN, [&] (guint32 events) {
        char byte;
        if (read (pair.ours (), &byte, 1) == 0 && calls.count () == 0)
          calls.add (events);
      });
  ASSERT_NE (id, 0u);
  pair.peer_closes ();
  ASSERT_TRUE (calls.wait_for (1));
  IoPoller::unwatch (id);
  EXPECT_TRUE (calls.events[0] & (EPOLLIN | EPOLLHUP));
}

TEST (IoPoller, UnwatchFromAnotherThreadWaitsForTheRunningCallback)
{
  SocketPair pair;
  std::atomic<bool> started { false }, finished { false };
  std::atomic<int> runs { 0 };
  guint64 id = IoPoller::watch (pair.ours (), EPOLLIN, [&] (guint32) {
        runs++;
        started = true;
        std::this_thread::sleep_for (std::chrono::milliseconds (200));
        finished = true;
      });
  ASSERT_NE (id, 0u);
  pair.peer_writes ("x");       /* never read: would be reported every pass */
  while (!started)
    std::this_thread::sleep_for (std::chrono::milliseconds (1));
  IoPoller::unwatch (id);
  EXPECT_TRUE (finished);
  const int after_unwatch = runs;
  std::this_thread::sleep_for (std::chrono::milliseconds (100));
  EXPECT_EQ (runs, after_unwatch);
}

TEST (IoPoller, ACallbackRemovesItselfAndAnotherReadyWatch)
{
  SocketPair first, second;
  std::atomic<int> first_runs { 0 }, second_runs { 0 };
  guint64 second_id = 0;
  guint64 first_id = 0;
  /* Both are ready, and both are watched from the I/O thread itself: its
   * next pass sees both. */
  first.peer_writes ("1");
  second.peer_writes ("2");
  std::atomic<bool> watched { false };
  IoThread::run ([&] {
        second_id = IoPoller::watch (second.ours (), EPOLLIN, [&] (guint32) {
              second_runs++;
              IoPoller::unwatch (first_id);
              IoPoller::unwatch (second_id);
            });
        first_id = IoPoller::watch (first.ours (), EPOLLIN, [&] (guint32) {
              first_runs++;
              IoPoller::unwatch (second_id);
              IoPoller::unwatch (first_id);
            });
        watched = true;
      });
  while (!watched)
    std::this_thread::sleep_for (std::chrono::milliseconds (1));
  ASSERT_NE (first_id, 0u);
  ASSERT_NE (second_id, 0u);
  std::this_thread::sleep_for (std::chrono::milliseconds (200));
  /* Whichever ran first removed both: exactly one callback ran, once. */
  EXPECT_EQ (first_runs + second_runs, 1);
}

TEST (IoPoller, ModifySwitchesToWritable)
{
  SocketPair pair;
  Calls calls;
  guint64 id = IoPoller::watch (pair.ours (), EPOLLIN, [&] (guint32 events) {
        if (calls.count () == 0)
          calls.add (events);
      });
  ASSERT_NE (id, 0u);
  std::this_thread::sleep_for (std::chrono::milliseconds (50));
  EXPECT_EQ (calls.count (), 0u);  /* nothing to read */
  ASSERT_TRUE (IoPoller::modify (id, EPOLLOUT));
  ASSERT_TRUE (calls.wait_for (1));
  IoPoller::unwatch (id);
  EXPECT_TRUE (calls.events[0] & EPOLLOUT);
}

TEST (IoPoller, RefusesABadFd)
{
  EXPECT_EQ (IoPoller::watch (-1, EPOLLIN, [] (guint32) {}), 0u);
  EXPECT_FALSE (IoPoller::modify (987654, EPOLLIN));
  IoPoller::unwatch (987654);   /* unknown: nothing happens */
}

}  // namespace
