/* Barge-in accounting of the model audio queue. */
#include <gtest/gtest.h>

#include "playout_queue.h"

using voxbridge::realtime::PlayoutQueue;

namespace {
std::vector<guint8> bytes (size_t n, guint8 v) { return std::vector<guint8> (n, v); }
}

TEST (PlayoutQueue, PullsAudioThenSilence)
{
  PlayoutQueue q;
  q.reset (0xff, 1);
  auto a = bytes (100, 0x11);
  q.push ("item_1", a.data (), a.size ());
  std::vector<guint8> out (160);
  EXPECT_EQ (q.pull (out.data (), out.size ()), 100u);
  EXPECT_EQ (out[99], 0x11);
  EXPECT_EQ (out[100], 0xff);
  EXPECT_EQ (out[159], 0xff);
  EXPECT_EQ (q.pull (out.data (), out.size ()), 0u);
  EXPECT_EQ (out[0], 0xff);
  EXPECT_EQ (q.total_played_bytes (), 100u);
}

TEST (PlayoutQueue, FlushReportsWhatPlayedOfTheCurrentItem)
{
  const struct {
    const char *name;
    std::vector<std::pair<std::string, size_t>> pushes;
    size_t pulled;
    bool had_audio;
    const char *item;
    guint64 played, received, dropped;
  } cases[] = {
    {"nothing ever queued", {}, 160, false, "", 0, 0, 0},
    {"mid first item", {{"a", 8000}}, 1600, true, "a", 1600, 8000, 6400},
    {"item fully played, none queued", {{"a", 800}}, 1600, true, "a", 800, 800, 0},
    {"second item queued behind the first", {{"a", 1000}, {"b", 1000}}, 600, true, "a", 600, 1000, 1400},
    {"first done, second playing", {{"a", 1000}, {"b", 1000}}, 1500, true, "b", 500, 1000, 500},
    {"deltas of one item accumulate", {{"a", 500}, {"a", 500}, {"a", 500}}, 1200, true, "a", 1200, 1500, 300},
    {"nothing pulled yet", {{"a", 480}}, 0, true, "a", 0, 480, 480},
  };
  for (const auto & c : cases) {
    PlayoutQueue q;
    q.reset (0, 2);
    for (const auto & [item, n] : c.pushes) {
      auto d = bytes (n, 1);
      q.push (item, d.data (), d.size ());
    }
    std::vector<guint8> out (c.pulled);
    if (c.pulled)
      q.pull (out.data (), out.size ());
    auto r = q.flush ();
    EXPECT_EQ (r.had_audio, c.had_audio) << c.name;
    EXPECT_EQ (r.item_id, c.item) << c.name;
    EXPECT_EQ (r.played_bytes, c.played) << c.name;
    EXPECT_EQ (r.received_bytes, c.received) << c.name;
    EXPECT_EQ (r.dropped_bytes, c.dropped) << c.name;
    EXPECT_EQ (q.queued_bytes (), 0u) << c.name;
    EXPECT_LE (r.played_bytes, r.received_bytes) << c.name;
  }
}

TEST (PlayoutQueue, PullOfOneItemStopsAtTheNext)
{
  PlayoutQueue q;
  q.reset (0xff, 1);
  auto a = bytes (100, 0x0a), b = bytes (100, 0x0b);
  q.push ("a", a.data (), a.size ());
  q.push ("b", b.data (), b.size ());
  std::vector<guint8> out (160);
  std::string item;
  EXPECT_EQ (q.pull (out.data (), out.size (), &item), 100u);
  EXPECT_EQ (item, "a");
  EXPECT_EQ (out[99], 0x0a);
  EXPECT_EQ (out[100], 0xff);   /* the rest of the frame is silence */
  EXPECT_EQ (q.pull (out.data (), out.size (), &item), 100u);
  EXPECT_EQ (item, "b");
  EXPECT_EQ (q.pull (out.data (), out.size (), &item), 0u);
  EXPECT_EQ (item, "");
}

TEST (PlayoutQueue, KeepsSampleAlignment)
{
  PlayoutQueue q;
  q.reset (0, 2);
  auto odd = bytes (101, 7);
  q.push ("a", odd.data (), odd.size ());   /* the half sample is dropped */
  EXPECT_EQ (q.queued_bytes (), 100u);
  auto one = bytes (1, 7);
  q.push ("a", one.data (), one.size ());
  EXPECT_EQ (q.queued_bytes (), 100u);
}

TEST (PlayoutQueue, AfterFlushNewAudioPlays)
{
  PlayoutQueue q;
  q.reset (0xd5, 1);
  auto a = bytes (400, 1);
  q.push ("a", a.data (), a.size ());
  q.flush ();
  auto b = bytes (100, 2);
  q.push ("b", b.data (), b.size ());
  std::vector<guint8> out (160);
  EXPECT_EQ (q.pull (out.data (), out.size ()), 100u);
  EXPECT_EQ (out[0], 2);
  EXPECT_EQ (out[150], 0xd5);
  EXPECT_EQ (q.total_dropped_bytes (), 400u);
}
