/* RTP port pool: see rtp_port_pool.h. */

#include "rtp_port_pool.h"

#include <utility>

namespace voxbridge::sipd {

RtpPortLease::RtpPortLease (RtpPortLease &&other) noexcept
    : pool_ (std::exchange (other.pool_, nullptr)),
      port_ (std::exchange (other.port_, 0)),
      socket_ (std::exchange (other.socket_, nullptr))
{
}

RtpPortLease &
RtpPortLease::operator= (RtpPortLease &&other) noexcept
{
  if (this != &other) {
    release ();
    pool_ = std::exchange (other.pool_, nullptr);
    port_ = std::exchange (other.port_, 0);
    socket_ = std::exchange (other.socket_, nullptr);
  }
  return *this;
}

RtpPortLease::~RtpPortLease ()
{
  release ();
}

void
RtpPortLease::release ()
{
  if (socket_ != nullptr) {
    /* Not closed: a graph may still hold the socket of the call it is
     * tearing down. The OS frees the port with the last ref; acquire()
     * skips ports that are still bound. */
    g_object_unref (socket_);
    socket_ = nullptr;
  }
  if (pool_ != nullptr) {
    pool_->release (port_);
    pool_ = nullptr;
  }
}

RtpPortPool::RtpPortPool (std::string bind_address, guint16 first,
    guint16 last)
    : bind_address_ (std::move (bind_address)),
      first_ (static_cast<guint16> (first + (first & 1)))
{
  if (last >= first_)
    in_use_.assign ((last - first_) / 2 + 1, false);
}

RtpPortPool::~RtpPortPool ()
{
  if (in_use_count_ != 0)
    g_critical ("sipd: RTP port pool destroyed with %zu ports leased",
        in_use_count_);
}

std::optional<RtpPortLease>
RtpPortPool::acquire (std::string *error)
{
  GInetAddress *address = g_inet_address_new_from_string (bind_address_.c_str ());
  if (address == nullptr) {
    if (error != nullptr)
      *error = "bad RTP bind address '" + bind_address_ + "'";
    return std::nullopt;
  }

  std::string last_error = "RTP port range exhausted";
  std::optional<RtpPortLease> lease;
  for (size_t tried = 0; tried < in_use_.size () && !lease; tried++) {
    size_t index = (next_ + tried) % in_use_.size ();
    if (in_use_[index])
      continue;
    guint16 port = static_cast<guint16> (first_ + 2 * index);

    GError *err = nullptr;
    GSocket *socket = g_socket_new (g_inet_address_get_family (address),
        G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
    if (socket == nullptr) {
      last_error = err->message;
      g_error_free (err);
      break;
    }
    GSocketAddress *sockaddr = g_inet_socket_address_new (address, port);
    gboolean bound = g_socket_bind (socket, sockaddr, FALSE, &err);
    g_object_unref (sockaddr);
    if (!bound) {
      /* Someone else (another process, or a graph still holding the socket
       * of an ended call) has it: try the next one. */
      last_error = std::string ("port ") + std::to_string (port) + ": " +
          err->message;
      g_error_free (err);
      g_object_unref (socket);
      continue;
    }
    in_use_[index] = true;
    in_use_count_++;
    next_ = (index + 1) % in_use_.size ();
    lease = RtpPortLease (this, port, socket);
  }
  g_object_unref (address);
  if (!lease && error != nullptr)
    *error = in_use_count_ == in_use_.size () ?
        "all " + std::to_string (in_use_.size ()) + " RTP ports in use" :
        last_error;
  return lease;
}

void
RtpPortPool::release (guint16 port)
{
  size_t index = (port - first_) / 2;
  if (index < in_use_.size () && in_use_[index]) {
    in_use_[index] = false;
    in_use_count_--;
  }
}

}  // namespace voxbridge::sipd
