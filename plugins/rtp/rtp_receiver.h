#pragma once
/* The one thread on which every siprtpsrc of the process receives its RTP:
 * an epoll set of all calls' sockets, so that 200 calls cost one thread and
 * one wakeup per burst of datagrams, not a udpsrc thread (and a poll over
 * one socket) each. A datagram is handed to its receiver's callback on that
 * thread; callbacks must not block. */

#include <gio/gio.h>
#include <sys/socket.h>

#include <functional>

namespace voxbridge {

class RtpReceiver {
 public:
  /* One datagram: its bytes and where it came from. */
  using Handler = std::function<void (const guint8 * data, gsize size,
      const struct sockaddr_storage & from, socklen_t from_len)>;

  /* Starts delivering what arrives on @socket to @handler (the thread starts
   * on first use and lives as long as the process). Returns an id for
   * remove(), 0 on failure. */
  static guint64 add (GSocket * socket, Handler handler);
  /* Stops delivery for @id; when it returns the handler is not running and
   * never runs again. Must not be called from a handler. */
  static void remove (guint64 id);
};

}  // namespace voxbridge
