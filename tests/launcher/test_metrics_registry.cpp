/* Prometheus text exposition of the metrics registry. */

#include <gtest/gtest.h>

#include <cmath>

#include "launcher_metrics.h"
#include "metrics_registry.h"

using namespace voxbridge::launcher;

TEST (MetricsRegistry, RendersCountersGaugesWithLabels)
{
  MetricsRegistry registry;
  Counter & calls = registry.add_counter ("calls_total", "Calls that ended.", {"outcome"});
  Gauge & active = registry.add_gauge ("calls_active", "Calls now.");
  calls.inc ({"completed"});
  calls.inc ({"completed"}, 2);
  calls.inc ({"failed"});
  active.set (3);
  active.add (-1);

  EXPECT_EQ (registry.render (),
      "# HELP calls_total Calls that ended.\n"
      "# TYPE calls_total counter\n"
      "calls_total{outcome=\"completed\"} 3\n"
      "calls_total{outcome=\"failed\"} 1\n"
      "# HELP calls_active Calls now.\n"
      "# TYPE calls_active gauge\n"
      "calls_active 2\n");
  EXPECT_EQ (calls.value ({"completed"}), 3);
  EXPECT_EQ (calls.value ({"never"}), 0);
}

TEST (MetricsRegistry, UnlabelledMetricsStartAtZero)
{
  MetricsRegistry registry;
  registry.add_counter ("drops_total", "Drops.");
  EXPECT_EQ (registry.render (), "# HELP drops_total Drops.\n# TYPE drops_total counter\n"
      "drops_total 0\n");
}

TEST (MetricsRegistry, EscapesLabelValuesAndHelp)
{
  MetricsRegistry registry;
  Counter & errors = registry.add_counter ("errors_total", "Errors by cause \\ with\nnewline.",
      {"cause", "detail"});
  errors.inc ({"sip", "say \"hi\"\\n\nnext"});
  EXPECT_EQ (registry.render (),
      "# HELP errors_total Errors by cause \\\\ with\\nnewline.\n"
      "# TYPE errors_total counter\n"
      "errors_total{cause=\"sip\",detail=\"say \\\"hi\\\"\\\\n\\nnext\"} 1\n");
}

TEST (MetricsRegistry, RendersCumulativeHistogramBuckets)
{
  MetricsRegistry registry;
  Histogram & latency = registry.add_histogram ("latency_seconds", "Latency.", {"leg"},
      {0.1, 0.5, 1});
  latency.observe (0.05, {"a"});
  latency.observe (0.3, {"a"});
  latency.observe (0.5, {"a"});
  latency.observe (7, {"a"});
  EXPECT_EQ (latency.count ({"a"}), 4u);
  EXPECT_EQ (registry.render (),
      "# HELP latency_seconds Latency.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{leg=\"a\",le=\"0.1\"} 1\n"
      "latency_seconds_bucket{leg=\"a\",le=\"0.5\"} 3\n"
      "latency_seconds_bucket{leg=\"a\",le=\"1\"} 3\n"
      "latency_seconds_bucket{leg=\"a\",le=\"+Inf\"} 4\n"
      "latency_seconds_sum{leg=\"a\"} 7.85\n"
      "latency_seconds_count{leg=\"a\"} 4\n");
}

TEST (MetricsRegistry, EmptyUnlabelledHistogramHasZeroSeries)
{
  MetricsRegistry registry;
  registry.add_histogram ("d_seconds", "D.", {}, {1});
  EXPECT_EQ (registry.render (),
      "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
      "d_seconds_bucket{le=\"1\"} 0\nd_seconds_bucket{le=\"+Inf\"} 0\n"
      "d_seconds_sum 0\nd_seconds_count 0\n");
}

struct ValueCase {
  double value;
  const char *text;
};

class SampleValues : public ::testing::TestWithParam<ValueCase> {};

TEST_P (SampleValues, Format)
{
  EXPECT_EQ (format_sample_value (GetParam ().value), GetParam ().text);
}

INSTANTIATE_TEST_SUITE_P (Table, SampleValues, ::testing::Values (
    ValueCase {0, "0"}, ValueCase {42, "42"}, ValueCase {-3, "-3"},
    ValueCase {0.25, "0.25"}, ValueCase {1e20, "1e+20"},
    ValueCase {INFINITY, "+Inf"}, ValueCase {-INFINITY, "-Inf"}, ValueCase {NAN, "NaN"}));

TEST (MetricsRegistry, CountersAreThreadSafe)
{
  MetricsRegistry registry;
  Counter & packets = registry.add_counter ("packets_total", "P.", {"direction"});
  std::vector<GThread *> threads;
  for (int i = 0; i < 4; i++) {
    threads.push_back (g_thread_new ("inc", [] (gpointer data) -> gpointer {
          for (int n = 0; n < 10000; n++)
            static_cast<Counter *> (data)->inc ({"in"});
          return nullptr;
        }, &packets));
  }
  for (GThread *t : threads)
    g_thread_join (t);
  EXPECT_EQ (packets.value ({"in"}), 40000);
}

TEST (LauncherMetrics, RegistersTheDocumentedFamilies)
{
  MetricsRegistry registry;
  LauncherMetrics metrics (registry);
  metrics.calls_active.add (1);
  metrics.calls_total.inc ({"completed"});
  metrics.rtp_packets_total.inc ({"in"}, 50);
  metrics.rtp_packets_dropped_total.inc ({"late"});
  metrics.ai_events_total.inc ({"response.done"});
  metrics.errors_total.inc ({"pipeline"});
  metrics.call_duration_seconds.observe (42);
  const std::string text = registry.render ();
  for (const char *line : {
           "# TYPE voxbridge_calls_active gauge\nvoxbridge_calls_active 1\n",
           "voxbridge_calls_total{outcome=\"completed\"} 1\n",
           "voxbridge_rtp_packets_total{direction=\"in\"} 50\n",
           "voxbridge_rtp_packets_dropped_total{reason=\"late\"} 1\n",
           "voxbridge_ai_events_total{type=\"response.done\"} 1\n",
           "voxbridge_errors_total{cause=\"pipeline\"} 1\n",
           "voxbridge_call_duration_seconds_bucket{le=\"60\"} 1\n",
           "# TYPE voxbridge_ai_response_latency_seconds histogram\n"})
    EXPECT_NE (text.find (line), std::string::npos) << line << "\nin:\n" << text;
}
