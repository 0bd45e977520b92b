/* Process-wide RTP reception on the network I/O thread: every call's socket
 * in the I/O poller's epoll set, the reorder deadlines in one GSource. */
#include "rtp_receiver.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "io_poller.h"
#include "io_thread.h"

namespace voxbridge {

namespace {

/* Datagrams read from one socket per wakeup before the others get a turn. */
constexpr int kMaxDatagramsPerTurn = 32;
/* RTP audio fits a 1500-byte MTU many times over; a larger datagram is not
 * RTP we can take and is dropped (with a warning). */
constexpr int kMaxDatagramSize = 4096;

struct Entry {
  int fd;
  guint64 watch = 0;            /* the I/O poller's */
  RtpReceiver::Handler handler;
  RtpReceiver::OnDeadline on_deadline;
  gint64 deadline = RtpReceiver::kNoDeadline;  /* monotonic µs */
};

/* Held while callbacks run and while entries change. Never taken before
 * the I/O poller's lock (its callbacks take this one). */
std::mutex lock;
std::map<guint64, Entry> entries;
/* (deadline, id) of the entries that asked for one, earliest first. */
std::set<std::pair<gint64, guint64>> deadlines;
guint64 last_id = 0;

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

/* One recvmmsg per ready socket and turn: it returns every datagram queued
 * (up to kMaxDatagramsPerTurn) in one system call, where reading until
 * EAGAIN cost a second, empty call per packet (a call's socket rarely holds
 * more than one). What it leaves is reported again by the level-triggered
 * epoll on the next turn. */
struct ReceiveSlots {
  std::vector<guint8> bytes = std::vector<guint8> (kMaxDatagramsPerTurn * kMaxDatagramSize);
  struct mmsghdr headers[kMaxDatagramsPerTurn];
  struct iovec vectors[kMaxDatagramsPerTurn];
  struct sockaddr_storage from[kMaxDatagramsPerTurn];

  /* The buffers stay where they are: set up once, not per read. */
  ReceiveSlots ()
  {
    memset (headers, 0, sizeof (headers));
    for (int k = 0; k < kMaxDatagramsPerTurn; k++) {
      vectors[k].iov_base = bytes.data () + k * kMaxDatagramSize;
      vectors[k].iov_len = kMaxDatagramSize;
      headers[k].msg_hdr.msg_name = &from[k];
      headers[k].msg_hdr.msg_iov = &vectors[k];
      headers[k].msg_hdr.msg_iovlen = 1;
    }
  }

  int receive (int fd)
  {
    /* The kernel writes each sender's address length back. */
    for (int k = 0; k < kMaxDatagramsPerTurn; k++)
      headers[k].msg_hdr.msg_namelen = sizeof (from[k]);
    return recvmmsg (fd, headers, kMaxDatagramsPerTurn, MSG_DONTWAIT, nullptr);
  }
};

/* At most one warning every ten seconds: a peer sending oversized datagrams
 * sends them 50 times a second. */
void
warn_oversized (int fd)
{
  static gint64 last_warning = 0;
  const gint64 now = g_get_monotonic_time ();
  if (last_warning != 0 && now - last_warning < 10 * G_USEC_PER_SEC)
    return;
  last_warning = now;
  g_warning ("RTP receiver: dropped a datagram of more than %d bytes on socket %d "
      "(not RTP audio)", kMaxDatagramSize, fd);
}

/* @id's socket is readable (the I/O poller's callback). */
void
receive_from (guint64 id)
{
  static ReceiveSlots slots;    /* only the I/O thread receives */
  std::lock_guard<std::mutex> guard (lock);
  auto it = entries.find (id);
  if (it == entries.end ())
    return;
  const int count = slots.receive (it->second.fd);
  if (count <= 0)
    return;             /* nothing after all (EAGAIN), or an error the next read reports again */
  gint64 delay = RtpReceiver::kNoDeadline;
  bool any = false;
  for (int k = 0; k < count; k++) {
    const struct msghdr & header = slots.headers[k].msg_hdr;
    if (header.msg_flags & MSG_TRUNC) {
      warn_oversized (it->second.fd);
      continue;
    }
    delay = it->second.handler (static_cast<const guint8 *> (slots.vectors[k].iov_base),
        slots.headers[k].msg_len, slots.from[k], header.msg_namelen);
    any = true;
  }
  if (any)
    set_deadline (id, it->second, delay, g_get_monotonic_time ());
}

/* The receivers' deadlines on the I/O thread: the earliest is the source's
 * timeout. */
gboolean
deadlines_prepare (GSource *, gint * timeout)
{
  std::lock_guard<std::mutex> guard (lock);
  *timeout = wait_timeout_ms ();
  return *timeout == 0;
}

gboolean
deadlines_check (GSource *)
{
  std::lock_guard<std::mutex> guard (lock);
  return wait_timeout_ms () == 0;
}

gboolean
deadlines_dispatch (GSource *, GSourceFunc, gpointer)
{
  std::lock_guard<std::mutex> guard (lock);
  run_due_deadlines ();
  return G_SOURCE_CONTINUE;
}

GSourceFuncs deadline_funcs = { deadlines_prepare, deadlines_check, deadlines_dispatch, nullptr,
  nullptr, nullptr };

void
ensure_deadline_source ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    /* On the thread that runs the Realtime sessions too: a caller's packet
     * becomes its input_audio_buffer.append on the same thread, with no
     * hand-over between threads per packet. */
    GSource *source = g_source_new (&deadline_funcs, sizeof (GSource));
    g_source_set_name (source, "voxbridge RTP deadlines");
    g_source_set_can_recurse (source, TRUE);
    g_source_attach (source, IoThread::context ());
    g_source_unref (source);    /* the context keeps it for the process's life */
    g_once_init_leave (&once, 1);
  }
}

}  // namespace

guint64
RtpReceiver::add (GSocket * socket, Handler handler, OnDeadline on_deadline)
{
  ensure_deadline_source ();
  const int fd = g_socket_get_fd (socket);
  guint64 id;
  {
    std::lock_guard<std::mutex> guard (lock);
    id = ++last_id;
    entries.emplace (id, Entry { fd, 0, std::move (handler), std::move (on_deadline) });
  }
  /* Outside our lock: the poller's callbacks take it under the poller's. */
  const guint64 watch = IoPoller::watch (fd, EPOLLIN, [id] (guint32) { receive_from (id); });
  std::lock_guard<std::mutex> guard (lock);
  if (watch == 0) {
    g_warning ("RTP receiver: cannot watch socket %d", fd);
    entries.erase (id);
    return 0;
  }
  entries.at (id).watch = watch;
  return id;
}

void
RtpReceiver::remove (guint64 id)
{
  if (id == 0)
    return;
  guint64 watch = 0;
  {
    std::lock_guard<std::mutex> guard (lock);
    auto it = entries.find (id);
    if (it == entries.end ())
      return;
    watch = it->second.watch;
  }
  /* When this returns the socket's callback is not running and never runs
   * again; then the entry goes, and with it its deadline. */
  IoPoller::unwatch (watch);
  std::lock_guard<std::mutex> guard (lock);
  auto it = entries.find (id);
  if (it == entries.end ())
    return;
  if (it->second.deadline != kNoDeadline)
    deadlines.erase ({it->second.deadline, id});
  entries.erase (it);
}

}  // namespace voxbridge
