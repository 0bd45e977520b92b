#pragma once
/* CPU, memory and threads of another process, from /proc/<pid>. */

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace voxbridge::bench {

struct ProcessSample {
  bool ok = false;
  double cpu_s = 0;       /* user + system time so far */
  int64_t rss_kib = 0;    /* VmRSS */
  int64_t threads = 0;
};

ProcessSample sample_process (pid_t pid);

/* Parses the text of /proc/<pid>/stat and /proc/<pid>/status (exposed for
 * tests); @ticks_per_s is sysconf (_SC_CLK_TCK). */
ProcessSample parse_process_sample (const std::string &stat, const std::string &status,
    long ticks_per_s);

}  // namespace voxbridge::bench
