#pragma once

/* Per-session audio timing for benchmarks (--timing-log FILE): one line per
 * input_audio_buffer.append received and per output audio delta sent, with a
 * CLOCK_MONOTONIC time in ns, the byte offset of the chunk in the session's
 * audio stream (input: since the session opened; output: over all
 * responses), its length and an FNV-1a hash of its bytes, so a client on the
 * same machine can find which of its own audio each chunk carried.
 *
 *   <session> open <t_ns>
 *   <session> instructions <t_ns> <instructions, blanks as _>
 *   <session> in <t_ns> <offset> <len> <hash>
 *   <session> out <t_ns> <offset> <len> <hash>
 *   <session> speech_started <t_ns>     (input_audio_buffer.speech_started sent)
 *   <session> close <t_ns>
 *
 * Lines are buffered and written out when the log is closed (at exit), so
 * logging costs no system call per event. */

#include <cstdint>
#include <cstdio>
#include <string>

namespace voxbridge::sim {

/* 32-bit FNV-1a of @len bytes. */
uint32_t fnv1a32 (const uint8_t *data, size_t len);

/* CLOCK_MONOTONIC in ns (the clock g_get_monotonic_time () reads in us). */
int64_t monotonic_ns ();

class TimingLog {
 public:
  TimingLog () = default;
  ~TimingLog ();
  TimingLog (const TimingLog &) = delete;
  TimingLog &operator= (const TimingLog &) = delete;

  bool open (const std::string &path, std::string *error);
  void close ();

  void session_event (const std::string &session, const char *what, int64_t t_ns);
  void instructions (const std::string &session, int64_t t_ns, const std::string &text);
  void audio (const std::string &session, const char *direction, int64_t t_ns,
      uint64_t offset, const uint8_t *data, size_t len);

 private:
  FILE *file_ = nullptr;
};

}  // namespace voxbridge::sim
