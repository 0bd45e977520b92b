#pragma once
/* One epoll set for every socket the network I/O thread (io_thread.h)
 * watches: every call's RTP socket and every Realtime session's WebSocket.
 * It stands in GLib's poll as a single fd, so a pass of the I/O thread costs
 * the sockets that are ready, not a poll() and GLib's prepare/check over
 * every call's socket (with 200 calls that was about a tenth of the
 * launcher's CPU).
 *
 * Watches are level-triggered: a callback that leaves data unread is called
 * again on the next pass. Callbacks run on the I/O thread and must not
 * block: every call of the process waits for them. */

#include <glib.h>

#include <functional>

namespace voxbridge {

class IoPoller {
 public:
  /* @events: what epoll reported (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
  using Callback = std::function<void (guint32 events)>;

  /* Watches @fd for @events (EPOLLIN and/or EPOLLOUT). Returns an id for
   * modify() and unwatch(), 0 on failure (logged). */
  static guint64 watch (int fd, guint32 events, Callback callback);
  /* Changes what @id's fd is watched for. */
  static bool modify (guint64 id, guint32 events);
  /* Stops watching; the callback never runs again, and when it returns on
   * another thread than the I/O thread the callback is not running. The fd
   * must still be open: unwatch before closing it. */
  static void unwatch (guint64 id);
};

}  // namespace voxbridge
