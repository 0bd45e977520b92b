/* /proc readers for the benchmark; see process_probe.h. */

#include "process_probe.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace voxbridge::bench {

ProcessSample
parse_process_sample (const std::string &stat, const std::string &status, long ticks_per_s)
{
  ProcessSample sample;
  /* The command name may hold blanks and parentheses: fields start after the last ')'. */
  const size_t close = stat.rfind (')');
  if (close == std::string::npos || ticks_per_s <= 0)
    return sample;
  std::istringstream fields (stat.substr (close + 1));
  std::string field;
  /* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15). */
  unsigned long long utime = 0, stime = 0;
  for (int index = 3; index <= 15 && (fields >> field); index++) {
    if (index == 14)
      utime = std::stoull (field);
    else if (index == 15)
      stime = std::stoull (field);
  }
  if (!fields)
    return sample;
  sample.cpu_s = static_cast<double> (utime + stime) / static_cast<double> (ticks_per_s);
  std::istringstream lines (status);
  std::string line;
  bool rss = false, threads = false;
  while (std::getline (lines, line)) {
    if (line.rfind ("VmRSS:", 0) == 0)
      rss = static_cast<bool> (std::istringstream (line.substr (6)) >> sample.rss_kib);
    else if (line.rfind ("Threads:", 0) == 0)
      threads = static_cast<bool> (std::istringstream (line.substr (8)) >> sample.threads);
  }
  sample.ok = rss && threads;
  return sample;
}

ProcessSample
sample_process (pid_t pid)
{
  const std::string base = "/proc/" + std::to_string (pid);
  std::ifstream stat_file (base + "/stat"), status_file (base + "/status");
  std::stringstream stat, status;
  stat << stat_file.rdbuf ();
  status << status_file.rdbuf ();
  return parse_process_sample (stat.str (), status.str (), sysconf (_SC_CLK_TCK));
}

}  // namespace voxbridge::bench
