/* Process-wide RTP receive thread (epoll over every call's socket). */
#include "rtp_receiver.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace voxbridge {

namespace {

/* Datagrams read from one socket per wakeup before the others get a turn. */
constexpr int kMaxDatagramsPerTurn = 32;
constexpr int kMaxEvents = 64;

struct Entry {
  int fd;
  RtpReceiver::Handler handler;
  RtpReceiver::OnDeadline on_deadline;
  gint64 deadline = RtpReceiver::kNoDeadline;  /* monotonic µs */
};

/* Held while callbacks run and while entries change: once remove() has the
 * lock, its callbacks are not running and the entry is gone for the next
 * turn. */
std::mutex lock;
std::map<guint64, Entry> entries;
/* (deadline, id) of the entries that asked for one, earliest first. */
std::set<std::pair<gint64, guint64>> deadlines;
guint64 last_id = 0;
int epoll_fd = -1;

/* Called with the lock. */
void
set_deadline (guint64 id, Entry & entry, gint64 delay_us, gint64 now)
{
  if (entry.deadline != RtpReceiver::kNoDeadline)
    deadlines.erase ({entry.deadline, id});
  entry.deadline = delay_us < 0 ? RtpReceiver::kNoDeadline :
      now + delay_us;
  if (entry.deadline != RtpReceiver::kNoDeadline)
    deadlines.emplace (entry.deadline, id);
}

/* epoll_wait's timeout for the earliest deadline, rounded up to whole ms so
 * that the wakeup is never early. Called with the lock. */
int
wait_timeout_ms ()
{
  if (deadlines.empty ())
    return -1;
  const gint64 wait_us = deadlines.begin ()->first - g_get_monotonic_time ();
  if (wait_us <= 0)
    return 0;
  return static_cast<int> (MIN ((wait_us + 999) / 1000, G_MAXINT));
}

void
run_due_deadlines ()
{
  const gint64 now = g_get_monotonic_time ();
  while (!deadlines.empty () && deadlines.begin ()->first <= now) {
    const guint64 id = deadlines.begin ()->second;
    deadlines.erase (deadlines.begin ());
    auto it = entries.find (id);
    if (it == entries.end ())
      continue;
    it->second.deadline = RtpReceiver::kNoDeadline;
    const gint64 delay = it->second.on_deadline ? it->second.on_deadline () :
        RtpReceiver::kNoDeadline;
    /* A delay of 0 again would spin: at least the next turn. */
    set_deadline (id, it->second, delay == 0 ? 1 : delay, now);
  }
}

gpointer
receive_loop (gpointer)
{
  std::vector<guint8> datagram (65536);
  struct epoll_event events[kMaxEvents];
  for (;;) {
    int timeout;
    {
      std::lock_guard<std::mutex> guard (lock);
      timeout = wait_timeout_ms ();
    }
    int n = epoll_wait (epoll_fd, events, kMaxEvents, timeout);
    if (n < 0) {
      if (errno != EINTR)
        g_warning ("RTP receiver: epoll_wait failed: %s", g_strerror (errno));
      continue;
    }
    std::lock_guard<std::mutex> guard (lock);
    for (int i = 0; i < n; i++) {
      /* An entry removed since epoll_wait returned is simply not found. */
      const guint64 id = events[i].data.u64;
      auto it = entries.find (id);
      if (it == entries.end ())
        continue;
      gint64 delay = RtpReceiver::kNoDeadline;
      bool any = false;
      for (int k = 0; k < kMaxDatagramsPerTurn; k++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof (from);
        ssize_t size = recvfrom (it->second.fd, datagram.data (), datagram.size (),
            MSG_DONTWAIT, reinterpret_cast<struct sockaddr *> (&from), &from_len);
        if (size < 0)
          break;        /* drained (EAGAIN), or an error the next read reports again */
        delay = it->second.handler (datagram.data (), static_cast<gsize> (size),
            from, from_len);
        any = true;
      }
      if (any)
        set_deadline (id, it->second, delay, g_get_monotonic_time ());
    }
    run_due_deadlines ();
  }
  return nullptr;
}

bool
ensure_thread ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (epoll_fd < 0)
      g_warning ("RTP receiver: epoll_create1 failed: %s", g_strerror (errno));
    else
      g_thread_unref (g_thread_new ("voxbridge-rtp-rx", receive_loop, nullptr));
    g_once_init_leave (&once, 1);
  }
  return epoll_fd >= 0;
}

}  // namespace

guint64
RtpReceiver::add (GSocket * socket, Handler handler, OnDeadline on_deadline)
{
  if (!ensure_thread ())
    return 0;
  std::lock_guard<std::mutex> guard (lock);
  const guint64 id = ++last_id;
  const int fd = g_socket_get_fd (socket);
  struct epoll_event event;
  memset (&event, 0, sizeof (event));
  event.events = EPOLLIN;
  event.data.u64 = id;
  if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    g_warning ("RTP receiver: cannot watch socket %d: %s", fd, g_strerror (errno));
    return 0;
  }
  entries.emplace (id, Entry { fd, std::move (handler), std::move (on_deadline) });
  return id;
}

void
RtpReceiver::remove (guint64 id)
{
  if (id == 0)
    return;
  std::lock_guard<std::mutex> guard (lock);
  auto it = entries.find (id);
  if (it == entries.end ())
    return;
  epoll_ctl (epoll_fd, EPOLL_CTL_DEL, it->second.fd, nullptr);
  if (it->second.deadline != kNoDeadline)
    deadlines.erase ({it->second.deadline, id});
  entries.erase (it);
}

}  // namespace voxbridge
