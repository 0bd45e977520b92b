/* The I/O thread's epoll set (see io_poller.h). */
#include "io_poller.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io_thread.h"

namespace voxbridge {

namespace {

constexpr int kMaxEvents = 256;

struct Watch {
  int fd;
  IoPoller::Callback callback;
  bool removed = false;
};

/* Not held while a callback runs: a callback may take locks of its own
 * (a session's, the launcher's) that a thread calling unwatch() for another
 * socket holds. unwatch() waits only for its own socket's callback. */
std::mutex & lock = *new std::mutex;
std::condition_variable & callback_done = *new std::condition_variable;
std::unordered_map<guint64, std::unique_ptr<Watch>> & watches =
    *new std::unordered_map<guint64, std::unique_ptr<Watch>>;
/* Unwatched while a pass may still hold them in its epoll events (epoll
 * carries the Watch itself, so a pass looks nothing up): freed once no
 * pass runs. A callback that unwatches itself lives on here until it
 * returns. */
std::vector<std::unique_ptr<Watch>> & retired = *new std::vector<std::unique_ptr<Watch>>;
int passes = 0;                 /* dispatches running (they may recurse) */
Watch *running = nullptr;       /* the watch whose callback runs now */
guint64 last_id = 0;
int epoll_fd = -1;

struct PollerSource {
  GSource source;
  gpointer epoll_tag;
};

gboolean
poller_check (GSource * source)
{
  auto *ps = reinterpret_cast<PollerSource *> (source);
  return (g_source_query_unix_fd (source, ps->epoll_tag) & G_IO_IN) != 0;
}

gboolean
poller_dispatch (GSource *, GSourceFunc, gpointer)
{
  {
    std::lock_guard<std::mutex> guard (lock);
    passes++;
  }
  struct epoll_event events[kMaxEvents];
  const int n = epoll_wait (epoll_fd, events, kMaxEvents, 0);
  if (n < 0 && errno != EINTR)
    g_warning ("I/O poller: epoll_wait failed: %s", g_strerror (errno));
  for (int i = 0; i < n; i++) {
    auto *watch = static_cast<Watch *> (events[i].data.ptr);
    Watch *outer;
    {
      std::lock_guard<std::mutex> guard (lock);
      /* Unwatched since the wait (by an earlier callback, another thread). */
      if (watch->removed)
        continue;
      outer = running;
      running = watch;
    }
    watch->callback (events[i].events);
    {
      std::lock_guard<std::mutex> guard (lock);
      running = outer;
    }
    callback_done.notify_all ();
  }
  std::vector<std::unique_ptr<Watch>> doomed;
  {
    std::lock_guard<std::mutex> guard (lock);
    if (--passes == 0)
      doomed.swap (retired);
  }
  return G_SOURCE_CONTINUE;
}

GSourceFuncs poller_funcs = { nullptr, poller_check, poller_dispatch, nullptr, nullptr, nullptr };

bool
ensure_source ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
      g_warning ("I/O poller: epoll_create1 failed: %s", g_strerror (errno));
    } else {
      GSource *source = g_source_new (&poller_funcs, sizeof (PollerSource));
      g_source_set_name (source, "voxbridge I/O poller");
      reinterpret_cast<PollerSource *> (source)->epoll_tag =
          g_source_add_unix_fd (source, epoll_fd, G_IO_IN);
      /* Not blocked per dispatch: GLib would take the fd out of the poll set
       * and put it back, two wakeup writes per pass. */
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
IoPoller::watch (int fd, guint32 events, Callback callback)
{
  if (!ensure_source ())
    return 0;
  std::lock_guard<std::mutex> guard (lock);
  const guint64 id = ++last_id;
  auto watch = std::make_unique<Watch> (Watch { fd, std::move (callback) });
  struct epoll_event event;
  memset (&event, 0, sizeof (event));
  event.events = events;
  event.data.ptr = watch.get ();
  if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    g_warning ("I/O poller: cannot watch fd %d: %s", fd, g_strerror (errno));
    return 0;
  }
  watches.emplace (id, std::move (watch));
  return id;
}

bool
IoPoller::modify (guint64 id, guint32 events)
{
  std::lock_guard<std::mutex> guard (lock);
  auto it = watches.find (id);
  if (it == watches.end ())
    return false;
  struct epoll_event event;
  memset (&event, 0, sizeof (event));
  event.events = events;
  event.data.ptr = it->second.get ();
  if (epoll_ctl (epoll_fd, EPOLL_CTL_MOD, it->second->fd, &event) != 0) {
    g_warning ("I/O poller: cannot change the watch of fd %d: %s", it->second->fd,
        g_strerror (errno));
    return false;
  }
  return true;
}

void
IoPoller::unwatch (guint64 id)
{
  if (id == 0)
    return;
  /* Destroyed after the lock is released: the callback's captures may
   * unwatch too. */
  std::unique_ptr<Watch> doomed;
  std::unique_lock<std::mutex> guard (lock);
  auto it = watches.find (id);
  if (it == watches.end ())
    return;
  Watch *watch = it->second.get ();
  if (epoll_ctl (epoll_fd, EPOLL_CTL_DEL, watch->fd, nullptr) != 0)
    g_warning ("I/O poller: cannot stop watching fd %d: %s", watch->fd,
        g_strerror (errno));
  watch->removed = true;
  if (passes > 0)
    retired.push_back (std::move (it->second));
  else
    doomed = std::move (it->second);
  watches.erase (it);
  /* Another thread waits for a running callback of this watch to return;
   * the callback itself (on the I/O thread) does not wait for itself. */
  if (running == watch && !IoThread::is_current ())
    callback_done.wait (guard, [watch] { return running != watch; });
}

}  // namespace voxbridge
