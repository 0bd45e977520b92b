#pragma once
/* The benchmark callers' RTP: one thread sends every call's G.711 packets at
 * real-time pace (20 ms, each call on its own phase) and receives what comes
 * back, on the sockets sipd leased for the calls, recording CLOCK_MONOTONIC
 * send and arrival times for the latency figures. One thread for all calls,
 * so the load generator stays cheap next to the launcher it measures. */

#include "timing_correlation.h"

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace voxbridge::bench {

int64_t monotonic_ns ();

/* Receive-side RTP accounting of one call. */
struct RtpReceiveStats {
  uint64_t packets = 0;     /* unique packets received */
  uint64_t duplicates = 0;  /* same sequence number again */
  uint64_t late = 0;        /* arrived after a packet with a higher sequence number */
  uint64_t lost = 0;        /* never arrived, between the first and the highest */
  uint64_t invalid = 0;     /* not RTP v2 */
};

/* One call's media: set up by the main thread, then owned by the engine
 * thread until RtpEngine::stop () returns. */
struct RtpStream {
  int fd = -1;                       /* the call's UDP socket (sipd owns it) */
  sockaddr_in remote {};
  uint8_t payload_type = 0;
  uint32_t ssrc = 0;
  const std::vector<uint8_t> *audio = nullptr;  /* G.711, looped */
  size_t audio_pos = 0;
  int64_t next_send_ns = 0;

  CallerTrace trace;
  RtpReceiveStats stats;
  bool keep_received_bytes = true;

  /* receive bookkeeping */
  bool have_seq = false;
  uint64_t first_ext_seq = 0;
  uint64_t max_ext_seq = 0;
  std::vector<bool> seen;            /* by ext seq - first */
};

/* Sequence-number bookkeeping shared with the tests: extends @seq (16 bit)
 * against the highest seen and updates @stats; false for a duplicate. */
bool account_sequence (RtpStream *stream, uint16_t seq);

class RtpEngine {
 public:
  RtpEngine () = default;
  ~RtpEngine ();
  RtpEngine (const RtpEngine &) = delete;
  RtpEngine &operator= (const RtpEngine &) = delete;

  bool start (std::string *error);
  /* Starts sending and receiving @stream (any thread). */
  void add (std::shared_ptr<RtpStream> stream);
  /* Every call stops sending at @t_ns (monotonic); receiving goes on. */
  void stop_sending_at (int64_t t_ns) { stop_sending_ns_ = t_ns; }
  /* Joins the thread; the streams are the caller's again. */
  void stop ();
  /* CPU time (user+sys) of the engine thread, ns. */
  int64_t cpu_ns () const { return cpu_ns_; }

 private:
  void run ();
  void send_due (int64_t now);
  void receive (RtpStream *stream);

  std::thread thread_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  std::atomic<bool> running_ {false};
  std::atomic<int64_t> stop_sending_ns_ {INT64_MAX};
  std::mutex lock_;
  std::vector<std::shared_ptr<RtpStream>> pending_;
  std::vector<std::shared_ptr<RtpStream>> streams_;  /* engine thread only */
  std::atomic<int64_t> cpu_ns_ {0};
};

}  // namespace voxbridge::bench
