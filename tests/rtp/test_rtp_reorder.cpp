/* RtpReorderBuffer on its own: sequences of (ssrc, seq, arrival) in, what
 * it releases out, table-driven. */
#include <gtest/gtest.h>

#include <gst/gst.h>

#include <string>
#include <vector>

#include "rtp_reorder.h"

using voxbridge::RtpReorderBuffer;

namespace {

constexpr GstClockTime kMs = GST_MSECOND;
constexpr guint32 kSsrc = 0x1234;

/* One step: a packet arriving, or the clock reaching a time (seq < 0). */
struct Step {
  gint seq;
  GstClockTime at;
  guint32 ssrc = kSsrc;
};

struct Case {
  const char *name;
  GstClockTime latency;
  std::vector<Step> steps;
  /* What came out: "5" a packet, "L2" two lost, "R" a restart. */
  std::string expected;
  guint64 lost, late, duplicates;
};

/* The packet's sequence number travels in its OFFSET field. */
std::string
run (const Case & c, RtpReorderBuffer & buffer)
{
  buffer.set_latency (c.latency);
  std::vector<RtpReorderBuffer::Item> out;
  for (const Step & step : c.steps) {
    if (step.seq < 0) {
      buffer.expire (step.at, out);
      continue;
    }
    GstBuffer *packet = gst_buffer_new ();
    GST_BUFFER_OFFSET (packet) = static_cast<guint64> (step.seq);
    buffer.push (packet, step.ssrc, static_cast<guint16> (step.seq), step.at,
        out);
  }
  std::string text;
  for (const auto & item : out) {
    if (!text.empty ())
      text += " ";
    switch (item.kind) {
      case RtpReorderBuffer::Item::Kind::PACKET:
        text += std::to_string (GST_BUFFER_OFFSET (item.packet));
        gst_buffer_unref (item.packet);
        break;
      case RtpReorderBuffer::Item::Kind::LOST:
        text += "L" + std::to_string (item.lost);
        break;
      case RtpReorderBuffer::Item::Kind::RESTART:
        text += "R";
        break;
    }
  }
  return text;
}

constexpr gint kClock = -1;

const Case kCases[] = {
  {"in order goes out at once", 60 * kMs,
    {{1, 0}, {2, 20 * kMs}, {3, 40 * kMs}}, "1 2 3", 0, 0, 0},
  {"a swap is put right without waiting", 60 * kMs,
    {{1, 0}, {3, 1 * kMs}, {2, 2 * kMs}}, "1 2 3", 0, 0, 0},
  {"a gap waits for the latency, not less", 60 * kMs,
    {{1, 0}, {3, 10 * kMs}, {kClock, 69 * kMs}}, "1", 0, 0, 0},
  {"then the missing are lost", 60 * kMs,
    {{1, 0}, {3, 10 * kMs}, {4, 30 * kMs}, {kClock, 70 * kMs}},
    "1 L1 3 4", 1, 0, 0},
  {"a packet given up on is late", 60 * kMs,
    {{1, 0}, {3, 10 * kMs}, {kClock, 70 * kMs}, {2, 80 * kMs}},
    "1 L1 3", 1, 1, 0},
  {"latency 0 gives up at once", 0,
    {{1, 0}, {4, 1 * kMs}, {5, 2 * kMs}}, "1 L2 4 5", 2, 0, 0},
  {"two gaps, the second expires after the first", 60 * kMs,
    {{1, 0}, {3, 10 * kMs}, {6, 50 * kMs}, {kClock, 70 * kMs},
      {kClock, 109 * kMs}, {kClock, 110 * kMs}},
    "1 L1 3 L2 6", 3, 0, 0},
  {"the deadline counts from the first packet behind the gap", 60 * kMs,
    {{1, 0}, {4, 10 * kMs}, {3, 50 * kMs}, {kClock, 70 * kMs}},
    "1 L1 3 4", 1, 0, 0},
  {"duplicates, released or waiting", 60 * kMs,
    {{1, 0}, {1, 1 * kMs}, {3, 2 * kMs}, {3, 3 * kMs}, {2, 4 * kMs},
      {2, 5 * kMs}}, "1 2 3", 0, 0, 3},
  {"older than the stream's start is late", 60 * kMs,
    {{10, 0}, {9, 1 * kMs}, {11, 2 * kMs}}, "10 11", 0, 1, 0},
  {"the sequence number wraps", 60 * kMs,
    {{65534, 0}, {0, 1 * kMs}, {65535, 2 * kMs}, {1, 3 * kMs}},
    "65534 65535 0 1", 0, 0, 0},
  {"a loss across the wrap", 0,
    {{65535, 0}, {1, 1 * kMs}}, "65535 L1 1", 1, 0, 0},
  {"a new SSRC restarts, what waited is drained first", 60 * kMs,
    {{1, 0}, {3, 1 * kMs}, {500, 2 * kMs, 0x9999}, {501, 3 * kMs, 0x9999}},
    "1 L1 3 R 500 501", 1, 0, 0},
  {"a lone far jump is not believed", 60 * kMs,
    {{1, 0}, {20000, 1 * kMs}, {2, 2 * kMs}}, "1 2", 0, 1, 0},
  {"a far jump confirmed by the next packet restarts", 60 * kMs,
    {{1, 0}, {20000, 1 * kMs}, {20001, 2 * kMs}, {20002, 3 * kMs}},
    "1 R 20001 20002", 0, 1, 0},
  {"a far jump backwards confirmed restarts", 60 * kMs,
    {{5000, 0}, {100, 1 * kMs}, {101, 2 * kMs}}, "5000 R 101", 0, 1, 0},
};

class Reorder : public ::testing::TestWithParam<Case> {
};

}  // namespace

TEST_P (Reorder, Releases)
{
  const Case & c = GetParam ();
  RtpReorderBuffer buffer;
  EXPECT_EQ (run (c, buffer), c.expected);
  EXPECT_EQ (buffer.lost (), c.lost);
  EXPECT_EQ (buffer.late (), c.late);
  EXPECT_EQ (buffer.duplicates (), c.duplicates);
}

INSTANTIATE_TEST_SUITE_P (Cases, Reorder, ::testing::ValuesIn (kCases),
    [] (const ::testing::TestParamInfo<Case> & info) {
      std::string name;
      for (const char *p = info.param.name; *p; p++)
        name += g_ascii_isalnum (*p) ? *p : '_';
      return name;
    });

TEST (ReorderLimits, DeadlineIsTheEarliestArrivalPlusLatency)
{
  RtpReorderBuffer buffer;
  buffer.set_latency (60 * kMs);
  std::vector<RtpReorderBuffer::Item> out;
  EXPECT_EQ (buffer.deadline (), GST_CLOCK_TIME_NONE);
  buffer.push (gst_buffer_new (), kSsrc, 1, 0, out);
  EXPECT_EQ (buffer.deadline (), GST_CLOCK_TIME_NONE);
  buffer.push (gst_buffer_new (), kSsrc, 4, 30 * kMs, out);
  buffer.push (gst_buffer_new (), kSsrc, 3, 20 * kMs, out);
  EXPECT_EQ (buffer.deadline (), 80 * kMs);
  for (auto & item : out)
    if (item.packet)
      gst_buffer_unref (item.packet);
}

TEST (ReorderLimits, HoldsABoundedNumberOfPackets)
{
  RtpReorderBuffer buffer;
  buffer.set_latency (10 * GST_SECOND);
  std::vector<RtpReorderBuffer::Item> out;
  buffer.push (gst_buffer_new (), kSsrc, 1, 0, out);
  /* 2 never comes; the clock stands still. */
  for (guint16 seq = 3; seq < 3 + RtpReorderBuffer::kMaxWaiting + 1; seq++)
    buffer.push (gst_buffer_new (), kSsrc, seq, 0, out);
  EXPECT_EQ (buffer.lost (), 1u);
  gsize packets = 0;
  for (auto & item : out)
    if (item.packet) {
      packets++;
      gst_buffer_unref (item.packet);
    }
  EXPECT_EQ (packets, RtpReorderBuffer::kMaxWaiting + 2);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  ::testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
