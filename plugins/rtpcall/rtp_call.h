#pragma once
/* The RTP side of one SIP call, shared between sipd (which creates it from the
 * SDP offer/answer) and siprtpsrc/siprtpsink (which bind to it by call id).
 * It owns the call's UDP socket so that receive and send use the same socket
 * (symmetric RTP) and remembers where the caller's RTP really comes from
 * (latching, for NAT). Thread-safe: sipd runs on the main loop, the elements
 * on streaming threads. */

#include <gio/gio.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace voxbridge {

/* Media parameters as negotiated by SDP; updated by re-INVITE. */
struct RtpMediaParams {
  std::string remote_address;   /* SDP c= address; empty until known */
  guint16 remote_port = 0;      /* SDP m= port */
  guint8 payload_type = 0;      /* 0 = PCMU, 8 = PCMA */
  std::string encoding_name = "PCMU";
  guint clock_rate = 8000;
  gint dtmf_payload_type = -1;  /* telephone-event PT, -1 when not negotiated */
  guint ptime_ms = 20;
  bool send = true;             /* false while the caller has us on hold */
  bool receive = true;
};

class RtpCall {
 public:
  using Listener = std::function<void (const RtpMediaParams &)>;

  /* Takes a reference on @socket (a bound UDP socket). */
  RtpCall (std::string call_id, GSocket * socket, const RtpMediaParams & params);
  ~RtpCall ();
  RtpCall (const RtpCall &) = delete;
  RtpCall & operator= (const RtpCall &) = delete;

  const std::string & id () const { return id_; }
  GSocket *socket () const { return socket_; }
  guint16 local_port () const { return local_port_; }

  RtpMediaParams params () const;
  /* Replaces the parameters and calls every listener (outside the lock). */
  void update (const RtpMediaParams & params);
  guint add_listener (Listener listener);
  void remove_listener (guint id);

  /* The address RTP from the caller really arrives from (NAT latching).
   * Returns a new reference or nullptr when nothing has arrived yet. */
  GSocketAddress *latched_address () const;
  void latch (GSocketAddress * from);
  /* Changes with every latch(): a sender polls it without the lock and
   * looks at the address only when it moved. */
  guint64 latch_generation () const { return latch_generation_.load (std::memory_order_acquire); }

 private:
  const std::string id_;
  GSocket *socket_;
  guint16 local_port_;
  mutable std::mutex lock_;
  RtpMediaParams params_;
  GSocketAddress *latched_ = nullptr;
  std::atomic<guint64> latch_generation_ { 0 };
  guint next_listener_id_ = 1;
  std::unordered_map<guint, Listener> listeners_;
};

/* Process-wide registry: sipd adds a call when it answers, removes it at the
 * end; the elements look calls up by id. */
class RtpCallRegistry {
 public:
  static RtpCallRegistry & instance ();

  /* Fails (returns nullptr) if @call_id is already registered. */
  std::shared_ptr<RtpCall> add (const std::string & call_id, GSocket * socket,
      const RtpMediaParams & params);
  std::shared_ptr<RtpCall> find (const std::string & call_id) const;
  void remove (const std::string & call_id);
  size_t size () const;

 private:
  mutable std::mutex lock_;
  std::unordered_map<std::string, std::shared_ptr<RtpCall>> calls_;
};

}  // namespace voxbridge
