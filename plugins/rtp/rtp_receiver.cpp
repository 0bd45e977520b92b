/* Process-wide RTP reception (epoll over every call's socket) on the
 * network I/O thread. */
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

#include "io_thread.h"

namespace voxbridge {

namespace {

/* Datagrams read from one socket per wakeup before the others get a turn. */
constexpr int kMaxDatagramsPerTurn = 32;
/* RTP audio fits a 1500-byte MTU many times over; a larger datagram is not
 * RTP we can take and is dropped (with a warning). */
constexpr int kMaxDatagramSize = 4096;
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

  int receive (int fd)
  {
    for (int k = 0; k < kMaxDatagramsPerTurn; k++) {
      vectors[k].iov_base = bytes.data () + k * kMaxDatagramSize;
      vectors[k].iov_len = kMaxDatagramSize;
      memset (&headers[k], 0, sizeof (headers[k]));
      headers[k].msg_hdr.msg_name = &from[k];
      headers[k].msg_hdr.msg_namelen = sizeof (from[k]);
      headers[k].msg_hdr.msg_iov = &vectors[k];
      headers[k].msg_hdr.msg_iovlen = 1;
    }
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

/* Reads what the ready sockets have and runs the due deadlines. */
void
receive_ready ()
{
  static ReceiveSlots slots;    /* only the I/O thread receives */
  struct epoll_event events[kMaxEvents];
  int n = epoll_wait (epoll_fd, events, kMaxEvents, 0);
  if (n < 0) {
    if (errno != EINTR)
      g_warning ("RTP receiver: epoll_wait failed: %s", g_strerror (errno));
    n = 0;
  }
  std::lock_guard<std::mutex> guard (lock);
  for (int i = 0; i < n; i++) {
    /* An entry removed since the poll is simply not found. */
    const guint64 id = events[i].data.u64;
    auto it = entries.find (id);
    if (it == entries.end ())
      continue;
    const int count = slots.receive (it->second.fd);
    if (count <= 0)
      continue;         /* nothing after all (EAGAIN), or an error the next read reports again */
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
  run_due_deadlines ();
}

/* A GSource on the I/O thread's context: the epoll fd stands for every
 * call's socket in the poll, and the earliest deadline is its timeout. */
struct ReceiverSource {
  GSource source;
  gpointer epoll_tag;
};

gboolean
receiver_prepare (GSource *, gint * timeout)
{
  std::lock_guard<std::mutex> guard (lock);
  *timeout = wait_timeout_ms ();
  return *timeout == 0;
}

gboolean
receiver_check (GSource * source)
{
  auto *rs = reinterpret_cast<ReceiverSource *> (source);
  if (g_source_query_unix_fd (source, rs->epoll_tag) & G_IO_IN)
    return TRUE;
  std::lock_guard<std::mutex> guard (lock);
  return wait_timeout_ms () == 0;
}

gboolean
receiver_dispatch (GSource *, GSourceFunc, gpointer)
{
  receive_ready ();
  return G_SOURCE_CONTINUE;
}

GSourceFuncs receiver_funcs = { receiver_prepare, receiver_check, receiver_dispatch, nullptr,
  nullptr, nullptr };

bool
ensure_source ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
      g_warning ("RTP receiver: epoll_create1 failed: %s", g_strerror (errno));
    } else {
      /* On the thread that runs the Realtime sessions too: a caller's packet
       * becomes its input_audio_buffer.append on the same thread, with no
       * hand-over between threads per packet. */
      GSource *source = g_source_new (&receiver_funcs, sizeof (ReceiverSource));
      g_source_set_name (source, "voxbridge RTP receiver");
      reinterpret_cast<ReceiverSource *> (source)->epoll_tag =
          g_source_add_unix_fd (source, epoll_fd, G_IO_IN);
      /* Not blocked per dispatch: GLib would take the fd out of the poll set
       * and put it back, two wakeup writes per turn. */
      g_source_set_can_recurse (source, TRUE);
      g_source_attach (source, IoThread::context ());
      g_source_unref (source);  /* the context keeps it for the process's life */
    }
    g_once_init_leave (&once, 1);
  }
  return epoll_fd >= 0;
}

}  // namespace

guint64
RtpReceiver::add (GSocket * socket, Handler handler, OnDeadline on_deadline)
{
  if (!ensure_source ())
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
