#pragma once
/* The benchmark's outputs: one table (figures as rows, runs as columns),
 * the same figures as JSON, and BENCHMARKS.md. */

#include "bench_run.h"

#include <string>
#include <vector>

namespace voxbridge::bench {

struct MachineInfo {
  std::string cpu_model;
  int cores = 0;
  std::string kernel;
  std::string gstreamer;
};

MachineInfo describe_machine ();

/* --find-max: the largest number of calls that was sustained, and the
 * smallest that was not (0: none failed). */
struct MaxCalls {
  std::string mode;
  int sustained = 0;
  int failed = 0;
};

std::string format_table (const std::vector<RunResult> &runs);
std::string format_json (const MachineInfo &machine, const std::string &command,
    const std::vector<RunResult> &runs, const std::vector<MaxCalls> &max_calls = {});
std::string format_benchmarks_md (const MachineInfo &machine, const std::string &command,
    const std::vector<RunResult> &runs, const std::vector<MaxCalls> &max_calls,
    const std::string &date);

}  // namespace voxbridge::bench
