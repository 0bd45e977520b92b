#pragma once
/* How every siprtpsrc of the process receives its RTP: an epoll set of all
 * calls' sockets, watched by the process's network I/O thread
 * (io_thread.h, io_poller.h; it also runs the Realtime sessions), so that 200 calls
 * cost no thread and one wakeup per burst of datagrams, not a udpsrc thread
 * (and a poll over one socket) each. A datagram is handed to its receiver's
 * callback on that thread, and so is a receiver's deadline (a reorder buffer
 * giving up on a lost packet): the poll timeout is the earliest deadline of
 * all receivers, so no receiver needs a timer thread of its own. Callbacks
 * must not block: every call of the process waits for them. */

#include <gio/gio.h>
#include <sys/socket.h>

#include <functional>

namespace voxbridge {

class RtpReceiver {
 public:
  /* What a callback returns: how long until the receiver wants its
   * OnDeadline called, in microseconds (0: at once), or kNoDeadline. */
  static constexpr gint64 kNoDeadline = -1;

  /* One datagram: its bytes and where it came from. */
  using Handler = std::function<gint64 (const guint8 * data, gsize size,
      const struct sockaddr_storage & from, socklen_t from_len)>;
  /* The time asked for has come. */
  using OnDeadline = std::function<gint64 ()>;

  /* Starts delivering what arrives on @socket to @handler (on the I/O
   * thread, which starts on first use and lives as long as the process).
   * Returns an id for remove(), 0 on failure. */
  static guint64 add (GSocket * socket, Handler handler,
      OnDeadline on_deadline = nullptr);
  /* Stops delivery for @id; when it returns neither callback is running
   * and neither ever runs again. Must not be called from a callback. */
  static void remove (guint64 id);
};

}  // namespace voxbridge
