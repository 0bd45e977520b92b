#pragma once
/* Summaries of measured samples (latencies in ms): count, p50, p99, max,
 * mean. Percentiles by the nearest-rank method on a sorted copy. */

#include <cstddef>
#include <vector>

namespace voxbridge::bench {

struct Summary {
  size_t count = 0;
  double p50 = 0;
  double p99 = 0;
  double max = 0;
  double mean = 0;
};

/* Nearest-rank percentile of @sorted (ascending), @p in (0, 100]. 0 when empty. */
double percentile (const std::vector<double> &sorted, double p);

Summary summarize (std::vector<double> samples);

}  // namespace voxbridge::bench
