/* Audio timing lines for benchmarks; see timing_log.h. */

#include "timing_log.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <ctime>

namespace voxbridge::sim {

uint32_t
fnv1a32 (const uint8_t *data, size_t len)
{
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    hash ^= data[i];
    hash *= 16777619u;
  }
  return hash;
}

int64_t
monotonic_ns ()
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t> (ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TimingLog::~TimingLog ()
{
  close ();
}

bool
TimingLog::open (const std::string &path, std::string *error)
{
  file_ = std::fopen (path.c_str (), "w");
  if (file_ == nullptr) {
    *error = "cannot write " + path + ": " + std::strerror (errno);
    return false;
  }
  /* Large buffer: a 200-call run logs ~20000 lines per second. */
  std::setvbuf (file_, nullptr, _IOFBF, 1 << 20);
  return true;
}

void
TimingLog::close ()
{
  if (file_ != nullptr) {
    std::fclose (file_);
    file_ = nullptr;
  }
}

void
TimingLog::session_event (const std::string &session, const char *what, int64_t t_ns)
{
  if (file_ != nullptr)
    std::fprintf (file_, "%s %s %" PRId64 "\n", session.c_str (), what, t_ns);
}

void
TimingLog::instructions (const std::string &session, int64_t t_ns, const std::string &text)
{
  if (file_ == nullptr)
    return;
  std::string word = text.empty () ? "-" : text;
  for (char &c : word)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      c = '_';
  std::fprintf (file_, "%s instructions %" PRId64 " %s\n", session.c_str (), t_ns, word.c_str ());
}

void
TimingLog::audio (const std::string &session, const char *direction, int64_t t_ns,
    uint64_t offset, const uint8_t *data, size_t len)
{
  if (file_ != nullptr)
    std::fprintf (file_, "%s %s %" PRId64 " %" PRIu64 " %zu %08x\n", session.c_str (), direction,
        t_ns, offset, len, fnv1a32 (data, len));
}

}  // namespace voxbridge::sim
