/* Process-wide RTP receive thread (epoll over every call's socket). */
#include "rtp_receiver.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace voxbridge {

namespace {

/* Datagrams read from one socket per wakeup before the others get a turn. */
constexpr int kMaxDatagramsPerTurn = 32;
constexpr int kMaxEvents = 64;

struct Entry {
  int fd;
  RtpReceiver::Handler handler;
};

/* Held while handlers run and while entries change: once remove() has the
 * lock, its handler is not running and the entry is gone for the next
 * turn. */
std::mutex lock;
std::map<guint64, Entry> entries;
guint64 last_id = 0;
int epoll_fd = -1;

gpointer
receive_loop (gpointer)
{
  std::vector<guint8> datagram (65536);
  struct epoll_event events[kMaxEvents];
  for (;;) {
    int n = epoll_wait (epoll_fd, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno != EINTR)
        g_warning ("RTP receiver: epoll_wait failed: %s", g_strerror (errno));
      continue;
    }
    std::lock_guard<std::mutex> guard (lock);
    for (int i = 0; i < n; i++) {
      /* An entry removed since epoll_wait returned is simply not found. */
      auto it = entries.find (events[i].data.u64);
      if (it == entries.end ())
        continue;
      for (int k = 0; k < kMaxDatagramsPerTurn; k++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof (from);
        ssize_t size = recvfrom (it->second.fd, datagram.data (), datagram.size (),
            MSG_DONTWAIT, reinterpret_cast<struct sockaddr *> (&from), &from_len);
        if (size < 0)
          break;        /* drained (EAGAIN), or an error the next read reports again */
        it->second.handler (datagram.data (), static_cast<gsize> (size), from, from_len);
      }
    }
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
RtpReceiver::add (GSocket * socket, Handler handler)
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
  entries.emplace (id, Entry { fd, std::move (handler) });
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
  entries.erase (it);
}

}  // namespace voxbridge
