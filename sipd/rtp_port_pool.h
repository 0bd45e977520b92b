#pragma once
/* A pool of even RTP ports (RFC 3550: RTP on even, RTCP on the next odd
 * port), handed out as bound UDP GSockets. A lease gives its port back when
 * it is destroyed, so every way out of a call releases it. */

#include <gio/gio.h>

#include <optional>
#include <string>
#include <vector>

namespace voxbridge::sipd {

class RtpPortPool;

class RtpPortLease {
 public:
  RtpPortLease () = default;
  RtpPortLease (RtpPortLease &&other) noexcept;
  RtpPortLease & operator= (RtpPortLease &&other) noexcept;
  RtpPortLease (const RtpPortLease &) = delete;
  RtpPortLease & operator= (const RtpPortLease &) = delete;
  ~RtpPortLease ();

  explicit operator bool () const { return pool_ != nullptr; }
  guint16 port () const { return port_; }
  /* The bound socket (borrowed; take a ref to keep it). */
  GSocket *socket () const { return socket_; }
  /* Gives the port back now (idempotent). */
  void release ();

 private:
  friend class RtpPortPool;
  RtpPortLease (RtpPortPool *pool, guint16 port, GSocket *socket)
      : pool_ (pool), port_ (port), socket_ (socket) {}

  RtpPortPool *pool_ = nullptr;
  guint16 port_ = 0;
  GSocket *socket_ = nullptr;
};

class RtpPortPool {
 public:
  /* Ports @first..@last inclusive; an odd @first is rounded up, only even
   * ports are handed out. */
  RtpPortPool (std::string bind_address, guint16 first, guint16 last);
  RtpPortPool (const RtpPortPool &) = delete;
  RtpPortPool & operator= (const RtpPortPool &) = delete;
  ~RtpPortPool ();

  /* The next free even port, bound. Ports another process holds are skipped.
   * nullopt when every port is taken (reason in @error). Ports are handed out
   * round-robin so a just-released port is not reused at once. */
  std::optional<RtpPortLease> acquire (std::string *error = nullptr);

  size_t capacity () const { return in_use_.size (); }
  size_t in_use () const { return in_use_count_; }

 private:
  friend class RtpPortLease;
  void release (guint16 port);

  std::string bind_address_;
  guint16 first_;
  std::vector<bool> in_use_;
  size_t in_use_count_ = 0;
  size_t next_ = 0;
};

}  // namespace voxbridge::sipd
