/* Per-call media metrics: the latency sketch's buckets and percentiles, the
 * new /metrics families, and the call.ended summary fields. */

#include <gtest/gtest.h>
#include <gst/gst.h>

#include "call_media_metrics.h"
#include "metrics_registry.h"

using namespace voxbridge::launcher;

namespace {

TEST (LatencySketch, BucketsAreTenPercentWide)
{
  EXPECT_EQ (LatencySketch::bucket_of (0), 0u);
  EXPECT_EQ (LatencySketch::bucket_of (-1), 0u);
  EXPECT_EQ (LatencySketch::bucket_of (40e-6), 0u);
  for (double s : {0.0001, 0.0012, 0.020, 0.35, 2.0}) {
    const size_t b = LatencySketch::bucket_of (s);
    EXPECT_GE (LatencySketch::upper_bound (b), s) << s;
    EXPECT_LT (LatencySketch::upper_bound (b), s * 1.1 + 1e-12) << s;
  }
  EXPECT_EQ (LatencySketch::bucket_of (1e6), LatencySketch::kBuckets - 1);
}

TEST (LatencySketch, PercentilesWithinABucket)
{
  LatencySketch sketch;
  EXPECT_EQ (sketch.percentile (50), 0);
  for (int i = 1; i <= 100; i++)
    sketch.add (i / 1000.0);  /* 1 .. 100 ms */
  EXPECT_EQ (sketch.count (), 100u);
  EXPECT_NEAR (sketch.percentile (50), 0.050, 0.005);
  EXPECT_NEAR (sketch.percentile (99), 0.099, 0.010);
  EXPECT_GE (sketch.percentile (99), 0.099);
  EXPECT_NEAR (sketch.percentile (100), 0.100, 0.010);
}

TEST (CallMediaMetrics, RegistersTheMediaFamilies)
{
  MetricsRegistry registry;
  LauncherMetrics metrics (registry);
  metrics.media_latency_to_ai_seconds.observe (0.0015);
  metrics.call_setup_seconds.observe (0.012, {"inbound"});
  metrics.rtp_packets_lost_total.inc ({}, 3);
  const std::string text = registry.render ();
  for (const char *needle : {
           "# TYPE voxbridge_media_latency_to_ai_seconds histogram",
           "voxbridge_media_latency_to_ai_seconds_bucket{le=\"0.002\"} 1",
           "voxbridge_media_latency_to_ai_seconds_bucket{le=\"0.001\"} 0",
           "# TYPE voxbridge_media_latency_to_caller_seconds histogram",
           "voxbridge_call_setup_seconds_bucket{direction=\"inbound\",le=\"0.02\"} 1",
           "voxbridge_rtp_packets_lost_total 3",
           "# TYPE voxbridge_rtp_packets_duplicate_total counter",
           "# TYPE voxbridge_audio_discarded_seconds_total counter"})
    EXPECT_NE (text.find (needle), std::string::npos) << needle << "\n" << text;
}

TEST (CallMediaMetrics, SummaryOfAGraphWithoutRtp)
{
  MetricsRegistry registry;
  LauncherMetrics metrics (registry);
  CallMediaMetrics media (metrics);
  GstElement *pipeline = gst_parse_launch ("fakesrc num-buffers=1 ! fakesink", nullptr);
  ASSERT_NE (pipeline, nullptr);
  media.attach (pipeline);
  media.finish (pipeline);
  gst_object_unref (pipeline);
  auto fields = media.summary ();
  ASSERT_EQ (fields.size (), 6u);  /* no latency measured: no latency fields */
  EXPECT_EQ (fields[0], std::make_pair (std::string ("packets_in"), std::string ("0")));
  EXPECT_EQ (fields[5].first, "audio_discarded_ms");
  EXPECT_EQ (metrics.rtp_packets_lost_total.value (), 0);
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
