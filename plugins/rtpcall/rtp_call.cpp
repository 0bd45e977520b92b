/* The RTP side of one SIP call and the process-wide call registry.
 * See rtp_call.h for the contract with sipd and the siprtp elements. */
#include "rtp_call.h"

#include <utility>
#include <vector>

namespace voxbridge {

namespace {

guint16
socket_local_port (GSocket * socket)
{
  GSocketAddress *local = g_socket_get_local_address (socket, nullptr);
  if (local == nullptr)
    return 0;
  guint16 port = 0;
  if (G_IS_INET_SOCKET_ADDRESS (local))
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  return port;
}

}  // namespace

RtpCall::RtpCall (std::string call_id, GSocket * socket,
    const RtpMediaParams & params)
  : id_ (std::move (call_id)),
    socket_ (G_SOCKET (g_object_ref (socket))),
    local_port_ (socket_local_port (socket)),
    params_ (params)
{
}

RtpCall::~RtpCall ()
{
  g_clear_object (&latched_);
  g_object_unref (socket_);
}

RtpMediaParams
RtpCall::params () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return params_;
}

void
RtpCall::update (const RtpMediaParams & params)
{
  std::vector<Listener> to_call;
  {
    std::lock_guard<std::mutex> guard (lock_);
    /* A re-INVITE that moves the caller's media invalidates the old latch;
     * the next RTP from the new address latches again. */
    if (params.remote_address != params_.remote_address ||
        params.remote_port != params_.remote_port)
      g_clear_object (&latched_);
    params_ = params;
    to_call.reserve (listeners_.size ());
    for (const auto & entry : listeners_)
      to_call.push_back (entry.second);
  }
  /* Outside the lock: a listener may call back into this object. A listener
   * removed concurrently with update() may still see this one last call. */
  for (const auto & listener : to_call)
    listener (params);
}

guint
RtpCall::add_listener (Listener listener)
{
  std::lock_guard<std::mutex> guard (lock_);
  guint id = next_listener_id_++;
  listeners_.emplace (id, std::move (listener));
  return id;
}

void
RtpCall::remove_listener (guint id)
{
  std::lock_guard<std::mutex> guard (lock_);
  listeners_.erase (id);
}

GSocketAddress *
RtpCall::latched_address () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return latched_ ? G_SOCKET_ADDRESS (g_object_ref (latched_)) : nullptr;
}

void
RtpCall::latch (GSocketAddress * from)
{
  std::lock_guard<std::mutex> guard (lock_);
  GSocketAddress *old = latched_;
  latched_ = from ? G_SOCKET_ADDRESS (g_object_ref (from)) : nullptr;
  latch_generation_.fetch_add (1, std::memory_order_release);
  if (old)
    g_object_unref (old);
}

RtpCallRegistry &
RtpCallRegistry::instance ()
{
  static RtpCallRegistry registry;
  return registry;
}

std::shared_ptr<RtpCall>
RtpCallRegistry::add (const std::string & call_id, GSocket * socket,
    const RtpMediaParams & params)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), nullptr);
  std::lock_guard<std::mutex> guard (lock_);
  if (calls_.count (call_id) != 0)
    return nullptr;
  auto call = std::make_shared<RtpCall> (call_id, socket, params);
  calls_.emplace (call_id, call);
  return call;
}

std::shared_ptr<RtpCall>
RtpCallRegistry::find (const std::string & call_id) const
{
  std::lock_guard<std::mutex> guard (lock_);
  auto it = calls_.find (call_id);
  return it == calls_.end () ? nullptr : it->second;
}

void
RtpCallRegistry::remove (const std::string & call_id)
{
  std::shared_ptr<RtpCall> removed;
  {
    std::lock_guard<std::mutex> guard (lock_);
    auto it = calls_.find (call_id);
    if (it == calls_.end ())
      return;
    removed = std::move (it->second);
    calls_.erase (it);
  }
  /* The call (and its socket) is destroyed here, outside the lock, unless an
   * element still holds it. */
}

size_t
RtpCallRegistry::size () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return calls_.size ();
}

}  // namespace voxbridge
