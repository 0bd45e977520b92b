/* Sample summaries for the benchmark report. */

#include "bench_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace voxbridge::bench {

double
percentile (const std::vector<double> &sorted, double p)
{
  if (sorted.empty ())
    return 0;
  /* Nearest rank: the smallest value with at least p % of the samples at or below it. */
  size_t rank = static_cast<size_t> (std::ceil (p / 100.0 * static_cast<double> (sorted.size ())));
  rank = std::clamp<size_t> (rank, 1, sorted.size ());
  return sorted[rank - 1];
}

Summary
summarize (std::vector<double> samples)
{
  Summary s;
  s.count = samples.size ();
  if (samples.empty ())
    return s;
  std::sort (samples.begin (), samples.end ());
  s.p50 = percentile (samples, 50);
  s.p99 = percentile (samples, 99);
  s.max = samples.back ();
  s.mean = std::accumulate (samples.begin (), samples.end (), 0.0) /
      static_cast<double> (samples.size ());
  return s;
}

}  // namespace voxbridge::bench
