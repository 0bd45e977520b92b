/* The benchmark callers' RTP thread; see rtp_engine.h. */

#include "rtp_engine.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace voxbridge::bench {

namespace {

constexpr int64_t kPacketNs = 20000000;   /* 20 ms of G.711 per packet */
constexpr size_t kPacketBytes = 160;
constexpr int64_t kBatchNs = 500000;      /* send what is due within 0.5 ms in one wake-up */

}  // namespace

int64_t
monotonic_ns ()
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t> (ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool
account_sequence (RtpStream *s, uint16_t seq)
{
  uint64_t ext;
  if (!s->have_seq) {
    s->have_seq = true;
    ext = (1u << 16) + seq;  /* room below for reordering of the first packets */
    s->first_ext_seq = ext;
    s->max_ext_seq = ext;
  } else {
    /* The extended number closest to the highest seen. */
    const uint64_t base = s->max_ext_seq & ~static_cast<uint64_t> (0xffff);
    ext = base + seq;
    if (ext + 0x8000 < s->max_ext_seq)
      ext += 0x10000;
    else if (ext > s->max_ext_seq + 0x8000 && ext >= 0x10000)
      ext -= 0x10000;
  }
  if (ext < s->first_ext_seq) {
    /* Older than the first packet: count it as late and keep going. */
    s->stats.late++;
    s->stats.packets++;
    return true;
  }
  const size_t index = static_cast<size_t> (ext - s->first_ext_seq);
  if (index >= s->seen.size ())
    s->seen.resize (index + 1 + 512, false);
  if (s->seen[index]) {
    s->stats.duplicates++;
    return false;
  }
  s->seen[index] = true;
  s->stats.packets++;
  if (ext < s->max_ext_seq)
    s->stats.late++;
  s->max_ext_seq = std::max (s->max_ext_seq, ext);
  s->stats.lost = (s->max_ext_seq - s->first_ext_seq + 1) - s->stats.packets +
      0;  /* late packets fill earlier gaps, so this stays exact */
  return true;
}

RtpEngine::~RtpEngine ()
{
  stop ();
}

bool
RtpEngine::start (std::string *error)
{
  epoll_fd_ = epoll_create1 (EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0) {
    *error = std::string ("epoll/timerfd: ") + std::strerror (errno);
    return false;
  }
  epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  /* nullptr = the timer */
  epoll_ctl (epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  running_ = true;
  thread_ = std::thread (&RtpEngine::run, this);
  return true;
}

void
RtpEngine::add (std::shared_ptr<RtpStream> stream)
{
  std::lock_guard<std::mutex> guard (lock_);
  pending_.push_back (std::move (stream));
  /* Wake the thread so the first packet goes out now, not at the next tick. */
  itimerspec soon {};
  soon.it_value.tv_nsec = 1;
  timerfd_settime (timer_fd_, 0, &soon, nullptr);
}

void
RtpEngine::stop ()
{
  if (!running_.exchange (false))
    return;
  itimerspec soon {};
  soon.it_value.tv_nsec = 1;
  timerfd_settime (timer_fd_, 0, &soon, nullptr);
  thread_.join ();
  close (timer_fd_);
  close (epoll_fd_);
  timer_fd_ = epoll_fd_ = -1;
}

void
RtpEngine::send_due (int64_t now)
{
  const int64_t stop_at = stop_sending_ns_;
  uint8_t packet[12 + kPacketBytes];
  for (auto &stream : streams_) {
    RtpStream &s = *stream;
    while (s.next_send_ns != 0 && s.next_send_ns <= now + kBatchNs) {
      if (s.next_send_ns >= stop_at) {
        s.next_send_ns = 0;  /* done sending */
        break;
      }
      const uint32_t index = static_cast<uint32_t> (s.trace.sent_ns.size ());
      const uint16_t seq = static_cast<uint16_t> (index);
      const uint32_t ts = index * kPacketBytes;
      packet[0] = 0x80;
      packet[1] = static_cast<uint8_t> (s.payload_type | (index == 0 ? 0x80 : 0));
      packet[2] = static_cast<uint8_t> (seq >> 8);
      packet[3] = static_cast<uint8_t> (seq);
      packet[4] = static_cast<uint8_t> (ts >> 24);
      packet[5] = static_cast<uint8_t> (ts >> 16);
      packet[6] = static_cast<uint8_t> (ts >> 8);
      packet[7] = static_cast<uint8_t> (ts);
      packet[8] = static_cast<uint8_t> (s.ssrc >> 24);
      packet[9] = static_cast<uint8_t> (s.ssrc >> 16);
      packet[10] = static_cast<uint8_t> (s.ssrc >> 8);
      packet[11] = static_cast<uint8_t> (s.ssrc);
      const std::vector<uint8_t> &audio = *s.audio;
      for (size_t i = 0; i < kPacketBytes; i++) {
        packet[12 + i] = audio[s.audio_pos];
        s.audio_pos = (s.audio_pos + 1) % audio.size ();
      }
      /* Stamped before the send: on loopback the packet is in the
       * launcher's socket queue by the time sendto returns. */
      s.trace.sent_ns.push_back (monotonic_ns ());
      sendto (s.fd, packet, sizeof packet, MSG_DONTWAIT,
          reinterpret_cast<const sockaddr *> (&s.remote), sizeof s.remote);
      s.trace.sent.insert (s.trace.sent.end (), packet + 12, packet + sizeof packet);
      s.next_send_ns += kPacketNs;
    }
  }
}

void
RtpEngine::receive (RtpStream *s)
{
  uint8_t buffer[2048];
  /* The kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME) on the
   * monotonic clock: a packet's latency does not include the time this
   * thread took to get to it. */
  struct timespec real_now;
  clock_gettime (CLOCK_REALTIME, &real_now);
  const int64_t realtime_to_monotonic = monotonic_ns ()
      - (static_cast<int64_t> (real_now.tv_sec) * 1000000000 + real_now.tv_nsec);
  for (;;) {
    union {
      char buf[CMSG_SPACE (sizeof (struct timespec))];
      struct cmsghdr align;
    } control;
    struct iovec iov = { buffer, sizeof buffer };
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg (s->fd, &msg, MSG_DONTWAIT);
    if (n < 0)
      return;  /* EAGAIN, or the socket went away with the call */
    int64_t arrived = monotonic_ns ();
    for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec kernel;
        memcpy (&kernel, CMSG_DATA (c), sizeof kernel);
        arrived = std::min (arrived, static_cast<int64_t> (kernel.tv_sec) * 1000000000
            + kernel.tv_nsec + realtime_to_monotonic);
      }
    }
    if (n < 12 || (buffer[0] >> 6) != 2) {
      s->stats.invalid++;
      continue;
    }
    size_t header = 12 + 4 * static_cast<size_t> (buffer[0] & 0x0f);
    if ((buffer[0] & 0x10) && static_cast<size_t> (n) >= header + 4)
      header += 4 + 4 * ((static_cast<size_t> (buffer[header + 2]) << 8) | buffer[header + 3]);
    if (static_cast<size_t> (n) < header) {
      s->stats.invalid++;
      continue;
    }
    if ((buffer[1] & 0x7f) != s->payload_type)
      continue;  /* telephone-event or comfort noise: not audio */
    const uint16_t seq = static_cast<uint16_t> ((buffer[2] << 8) | buffer[3]);
    if (!account_sequence (s, seq))
      continue;
    s->trace.received_offsets.push_back (s->trace.received.size ());
    s->trace.received_ns.push_back (arrived);
    s->trace.received.insert (s->trace.received.end (), buffer + header, buffer + n);
  }
}

void
RtpEngine::run ()
{
  epoll_event events[64];
  while (running_) {
    {
      std::lock_guard<std::mutex> guard (lock_);
      for (auto &stream : pending_) {
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.ptr = stream.get ();
        const int on = 1;
        setsockopt (stream->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
        epoll_ctl (epoll_fd_, EPOLL_CTL_ADD, stream->fd, &ev);
        if (stream->next_send_ns == 0)
          stream->next_send_ns = monotonic_ns ();
        streams_.push_back (stream);
      }
      pending_.clear ();
    }
    send_due (monotonic_ns ());
    int64_t next = INT64_MAX;
    for (auto &stream : streams_)
      if (stream->next_send_ns != 0)
        next = std::min (next, stream->next_send_ns);
    itimerspec when {};
    if (next != INT64_MAX) {
      when.it_value.tv_sec = next / 1000000000;
      when.it_value.tv_nsec = next % 1000000000;
    } else {
      when.it_value.tv_nsec = 20000000;  /* nothing to send: still poll for stops */
    }
    timerfd_settime (timer_fd_, next != INT64_MAX ? TFD_TIMER_ABSTIME : 0, &when, nullptr);
    int n = epoll_wait (epoll_fd_, events, 64, 100);
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == nullptr) {
        uint64_t expirations;
        ssize_t r = read (timer_fd_, &expirations, sizeof expirations);
        (void) r;
      } else {
        receive (static_cast<RtpStream *> (events[i].data.ptr));
      }
    }
  }
  for (auto &stream : streams_)
    epoll_ctl (epoll_fd_, EPOLL_CTL_DEL, stream->fd, nullptr);
  struct timespec cpu;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &cpu);
  cpu_ns_ = static_cast<int64_t> (cpu.tv_sec) * 1000000000 + cpu.tv_nsec;
}

}  // namespace voxbridge::bench
