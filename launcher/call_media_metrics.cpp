/* Per-call media latency probes and RTP totals; see call_media_metrics.h. */

#include "call_media_metrics.h"

#include <cmath>
#include <cstdio>

#include "graph_elements.h"

namespace voxbridge::launcher {

namespace {

constexpr double kFirstBound = 50e-6;  /* s */
constexpr double kRatio = 1.1;

std::string
format_ms (double seconds)
{
  char buffer[32];
  std::snprintf (buffer, sizeof buffer, "%.1f", seconds * 1000.0);
  return buffer;
}

guint64
stat (const GstStructure * stats, const char *field)
{
  guint64 value = 0;
  if (stats)
    gst_structure_get_uint64 (stats, field, &value);
  return value;
}

}  // namespace

/* ---- LatencySketch ---- */

size_t
LatencySketch::bucket_of (double seconds)
{
  if (!(seconds > kFirstBound))
    return 0;
  const double b = std::ceil (std::log (seconds / kFirstBound) / std::log (kRatio)) - 1;
  return std::min (kBuckets - 1, static_cast<size_t> (std::max (0.0, b)));
}

double
LatencySketch::upper_bound (size_t bucket)
{
  return kFirstBound * std::pow (kRatio, static_cast<double> (bucket + 1));
}

void
LatencySketch::add (double seconds)
{
  counts_[bucket_of (seconds)].fetch_add (1, std::memory_order_relaxed);
}

uint64_t
LatencySketch::count () const
{
  uint64_t n = 0;
  for (const auto & c : counts_)
    n += c.load (std::memory_order_relaxed);
  return n;
}

double
LatencySketch::percentile (double p) const
{
  const uint64_t n = count ();
  if (n == 0)
    return 0;
  const uint64_t rank = std::max<uint64_t> (1,
      static_cast<uint64_t> (std::ceil (p / 100.0 * static_cast<double> (n))));
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; b++) {
    seen += counts_[b].load (std::memory_order_relaxed);
    if (seen >= rank)
      return upper_bound (b);
  }
  return upper_bound (kBuckets - 1);
}

/* ---- CallMediaMetrics ---- */

CallMediaMetrics::~CallMediaMetrics () = default;

GstPadProbeReturn
CallMediaMetrics::on_to_ai_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto & shared = **static_cast<std::shared_ptr<Shared> *> (data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstElement *sink = GST_PAD_PARENT (pad);
  if (!buffer || !sink || !GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  const GstClockTime now = gst_element_get_current_running_time (sink);
  if (!GST_CLOCK_TIME_IS_VALID (now))
    return GST_PAD_PROBE_OK;
  const GstClockTime pts = GST_BUFFER_PTS (buffer);
  const double seconds = now > pts ? static_cast<double> (now - pts) / GST_SECOND : 0.0;
  shared.to_ai.add (seconds);
  shared.to_ai_histogram->observe (seconds);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
CallMediaMetrics::on_to_caller_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto & shared = **static_cast<std::shared_ptr<Shared> *> (data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstElement *sink = GST_PAD_PARENT (pad);
  /* GAP: realtimesrc's silence while the model is quiet; not model audio. */
  if (!buffer || !sink || !GST_BUFFER_PTS_IS_VALID (buffer) ||
      GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP))
    return GST_PAD_PROBE_OK;
  const GstClockTime now = gst_element_get_current_running_time (sink);
  if (!GST_CLOCK_TIME_IS_VALID (now))
    return GST_PAD_PROBE_OK;
  guint64 queued_ms = 0;
  g_object_get (sink, "queued-ms", &queued_ms, nullptr);
  const GstClockTime out = now + queued_ms * GST_MSECOND;
  const GstClockTime pts = GST_BUFFER_PTS (buffer);
  const double seconds = out > pts ? static_cast<double> (out - pts) / GST_SECOND : 0.0;
  shared.to_caller.add (seconds);
  shared.to_caller_histogram->observe (seconds);
  return GST_PAD_PROBE_OK;
}

void
CallMediaMetrics::attach (GstElement * pipeline)
{
  shared_->to_ai_histogram = &metrics_.media_latency_to_ai_seconds;
  shared_->to_caller_histogram = &metrics_.media_latency_to_caller_seconds;
  auto probe = [this] (GstElement * element, GstPadProbeCallback callback) {
    GstPad *pad = gst_element_get_static_pad (element, "sink");
    if (!pad)
      return;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, callback,
        new std::shared_ptr<Shared> (shared_),
        [] (gpointer data) { delete static_cast<std::shared_ptr<Shared> *> (data); });
    gst_object_unref (pad);
  };
  for_each_element_of_factory (pipeline, "realtimesink", [&] (GstElement * e) {
    probe (e, on_to_ai_buffer);
  });
  for_each_element_of_factory (pipeline, "siprtpsink", [&] (GstElement * e) {
    /* Without queued-ms (an older siprtpsink) the figure would be wrong. */
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "queued-ms"))
      probe (e, on_to_caller_buffer);
  });
}

void
CallMediaMetrics::finish (GstElement * pipeline)
{
  CallMediaTotals graph;
  for_each_element_of_factory (pipeline, "siprtpsrc", [&graph] (GstElement * e) {
    GstStructure *stats = nullptr;
    g_object_get (e, "stats", &stats, nullptr);
    graph.packets_in += stat (stats, "packets-received");
    graph.lost += stat (stats, "packets-lost");
    graph.late += stat (stats, "packets-late");
    graph.duplicate += stat (stats, "packets-duplicate");
    if (stats)
      gst_structure_free (stats);
  });
  for_each_element_of_factory (pipeline, "siprtpsink", [&graph] (GstElement * e) {
    GstStructure *stats = nullptr;
    g_object_get (e, "stats", &stats, nullptr);
    graph.packets_out += stat (stats, "packets-sent");
    graph.discarded_ms += stat (stats, "audio-ms-discarded");
    if (stats)
      gst_structure_free (stats);
  });
  /* packets in/out and late reach the metrics through the daemon's own count. */
  if (graph.lost > 0)
    metrics_.rtp_packets_lost_total.inc ({}, static_cast<double> (graph.lost));
  if (graph.duplicate > 0)
    metrics_.rtp_packets_duplicate_total.inc ({}, static_cast<double> (graph.duplicate));
  if (graph.discarded_ms > 0)
    metrics_.audio_discarded_seconds_total.inc ({}, static_cast<double> (graph.discarded_ms) / 1000.0);
  totals_.packets_in += graph.packets_in;
  totals_.packets_out += graph.packets_out;
  totals_.lost += graph.lost;
  totals_.late += graph.late;
  totals_.duplicate += graph.duplicate;
  totals_.discarded_ms += graph.discarded_ms;
}

std::vector<std::pair<std::string, std::string>>
CallMediaMetrics::summary () const
{
  std::vector<std::pair<std::string, std::string>> fields = {
    {"packets_in", std::to_string (totals_.packets_in)},
    {"packets_out", std::to_string (totals_.packets_out)},
    {"rtp_lost", std::to_string (totals_.lost)},
    {"rtp_late", std::to_string (totals_.late)},
    {"rtp_duplicate", std::to_string (totals_.duplicate)},
    {"audio_discarded_ms", std::to_string (totals_.discarded_ms)},
  };
  if (shared_->to_ai.count () > 0) {
    fields.emplace_back ("latency_to_ai_p50_ms", format_ms (shared_->to_ai.percentile (50)));
    fields.emplace_back ("latency_to_ai_p99_ms", format_ms (shared_->to_ai.percentile (99)));
  }
  if (shared_->to_caller.count () > 0) {
    fields.emplace_back ("latency_to_caller_p50_ms",
        format_ms (shared_->to_caller.percentile (50)));
    fields.emplace_back ("latency_to_caller_p99_ms",
        format_ms (shared_->to_caller.percentile (99)));
  }
  return fields;
}

}  // namespace voxbridge::launcher
