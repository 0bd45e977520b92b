/* ClockScheduler: many pacers' deadlines served by one wait on a clock.
 * Time is a GstTestClock (waits fire only when the test cranks them), and
 * once the real system clock. */
#include <gst/check/gsttestclock.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "clock_scheduler.h"

using voxbridge::ClockScheduler;

namespace {

constexpr GstClockTime kMs = GST_MSECOND;

/* A client that records the clock time of each call. */
struct Recorder {
  GstClock *clock = nullptr;
  std::mutex lock;
  std::vector<GstClockTime> calls;

  static void on_deadline (gpointer data) {
    auto *self = static_cast<Recorder *> (data);
    std::lock_guard<std::mutex> guard (self->lock);
    self->calls.push_back (gst_clock_get_time (self->clock));
  }
  size_t count () {
    std::lock_guard<std::mutex> guard (lock);
    return calls.size ();
  }
};

class ClockSchedulerTest : public ::testing::Test {
 protected:
  void SetUp () override {
    clock = GST_TEST_CLOCK (gst_test_clock_new ());
    scheduler = ClockScheduler::for_clock (GST_CLOCK (clock));
  }
  void TearDown () override {
    scheduler.reset ();
    gst_object_unref (clock);
  }

  ClockScheduler::Client *add (Recorder & recorder) {
    recorder.clock = GST_CLOCK (clock);
    return scheduler->add (Recorder::on_deadline, &recorder);
  }
  /* Clock time of the wait on the clock; NONE when there is none. */
  GstClockTime pending () {
    GstClockID id = nullptr;
    if (!gst_test_clock_peek_next_pending_id (clock, &id))
      return GST_CLOCK_TIME_NONE;
    const GstClockTime t = gst_clock_id_get_time (id);
    gst_clock_id_unref (id);
    return t;
  }
  guint waits () { return gst_test_clock_peek_id_count (clock); }

  GstTestClock *clock = nullptr;
  std::shared_ptr<ClockScheduler> scheduler;
};

}  // namespace

TEST_F (ClockSchedulerTest, ADeadlineIsServedAtItsWholeMillisecond)
{
  Recorder r;
  ClockScheduler::Client *id = add (r);
  scheduler->set_deadline (id, 10 * kMs + 300 * GST_USECOND);
  EXPECT_EQ (pending (), 11 * kMs);
  gst_test_clock_set_time (clock, 10 * kMs + 500 * GST_USECOND);
  EXPECT_EQ (r.count (), 0u);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  ASSERT_EQ (r.count (), 1u);
  EXPECT_EQ (r.calls[0], 11 * kMs);
  /* Consumed: nothing more waits. */
  EXPECT_EQ (waits (), 0u);
  scheduler->remove (id);
}

TEST_F (ClockSchedulerTest, DeadlinesWithinOneMillisecondShareOneWait)
{
  Recorder a, b, c;
  ClockScheduler::Client *ia = add (a), *ib = add (b), *ic = add (c);
  scheduler->set_deadline (ia, 20 * kMs + 100 * GST_USECOND);
  scheduler->set_deadline (ib, 20 * kMs + 900 * GST_USECOND);
  scheduler->set_deadline (ic, 40 * kMs);
  EXPECT_EQ (waits (), 1u);
  EXPECT_EQ (pending (), 21 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (a.count (), 1u);
  EXPECT_EQ (b.count (), 1u);
  EXPECT_EQ (c.count (), 0u);
  EXPECT_EQ (pending (), 40 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (c.count (), 1u);
  for (ClockScheduler::Client *id : {ia, ib, ic})
    scheduler->remove (id);
}

TEST_F (ClockSchedulerTest, ADeadlineMovedLaterIsFiledAgainWhenItsOldWaitFires)
{
  Recorder r;
  ClockScheduler::Client *id = add (r);
  scheduler->set_deadline (id, 40 * kMs);
  /* The talk-spurt case: the deadline moves on with every buffer; the
   * clock is not touched. */
  scheduler->set_deadline (id, 60 * kMs);
  scheduler->set_deadline (id, 80 * kMs);
  EXPECT_EQ (pending (), 40 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (r.count (), 0u);
  EXPECT_EQ (pending (), 80 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  ASSERT_EQ (r.count (), 1u);
  EXPECT_EQ (r.calls[0], 80 * kMs);
  scheduler->remove (id);
}

TEST_F (ClockSchedulerTest, ADeadlineMovedEarlierReplacesTheWait)
{
  Recorder r, other;
  ClockScheduler::Client *id = add (r), *other_id = add (other);
  scheduler->set_deadline (other_id, 50 * kMs);
  scheduler->set_deadline (id, 80 * kMs);
  EXPECT_EQ (pending (), 50 * kMs);
  scheduler->set_deadline (id, 30 * kMs);
  EXPECT_EQ (waits (), 1u);
  EXPECT_EQ (pending (), 30 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  ASSERT_EQ (r.count (), 1u);
  EXPECT_EQ (r.calls[0], 30 * kMs);
  /* Its old entry at 80 is dropped, the other client's stays. */
  EXPECT_EQ (pending (), 50 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (other.count (), 1u);
  EXPECT_EQ (waits (), 1u);      /* the stale entry at 80 */
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (r.count (), 1u);
  EXPECT_EQ (waits (), 0u);
  scheduler->remove (id);
  scheduler->remove (other_id);
}

TEST_F (ClockSchedulerTest, ACancelledDeadlineIsNotServed)
{
  Recorder r;
  ClockScheduler::Client *id = add (r);
  scheduler->set_deadline (id, 10 * kMs);
  scheduler->set_deadline (id, GST_CLOCK_TIME_NONE);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (r.count (), 0u);
  EXPECT_EQ (waits (), 0u);
  scheduler->remove (id);
}

namespace {

/* Sets its next deadline from its callback, like a pacer. */
struct Periodic {
  std::shared_ptr<ClockScheduler> scheduler;
  ClockScheduler::Client *id = nullptr;
  GstClock *clock = nullptr;
  std::vector<GstClockTime> calls;

  static void on_deadline (gpointer data) {
    auto *self = static_cast<Periodic *> (data);
    const GstClockTime now = gst_clock_get_time (self->clock);
    self->calls.push_back (now);
    self->scheduler->set_deadline (self->id, now + 20 * kMs);
  }
};

}  // namespace

TEST_F (ClockSchedulerTest, ACallbackSetsItsNextDeadline)
{
  Periodic p;
  p.scheduler = scheduler;
  p.clock = GST_CLOCK (clock);
  p.id = scheduler->add (Periodic::on_deadline, &p);
  scheduler->set_deadline (p.id, 20 * kMs);
  for (int i = 0; i < 5; i++)
    EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (p.calls, (std::vector<GstClockTime> {20 * kMs, 40 * kMs, 60 * kMs,
          80 * kMs, 100 * kMs}));
  EXPECT_EQ (pending (), 120 * kMs);
  scheduler->remove (p.id);
  EXPECT_EQ (waits (), 0u);
}

namespace {

/* Blocks in its callback until released. */
struct Blocking {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released {release.get_future ().share ()};
  std::atomic<bool> returned {false};

  static void on_deadline (gpointer data) {
    auto *self = static_cast<Blocking *> (data);
    self->entered.set_value ();
    self->released.wait ();
    self->returned = true;
  }
};

}  // namespace

TEST_F (ClockSchedulerTest, RemoveWaitsForARunningCallback)
{
  Blocking b;
  ClockScheduler::Client *id = scheduler->add (Blocking::on_deadline, &b);
  scheduler->set_deadline (id, 10 * kMs);
  std::thread clock_thread ([this] { gst_test_clock_crank (clock); });
  b.entered.get_future ().wait ();
  auto removed = std::async (std::launch::async, [this, id] { scheduler->remove (id); });
  EXPECT_EQ (removed.wait_for (std::chrono::milliseconds (200)),
      std::future_status::timeout);
  b.release.set_value ();
  removed.wait ();
  EXPECT_TRUE (b.returned);
  clock_thread.join ();
}

namespace {

struct SelfRemoving {
  std::shared_ptr<ClockScheduler> scheduler;
  ClockScheduler::Client *id = nullptr;
  int calls = 0;

  static void on_deadline (gpointer data) {
    auto *self = static_cast<SelfRemoving *> (data);
    self->calls++;
    self->scheduler->remove (self->id);
  }
};

}  // namespace

TEST_F (ClockSchedulerTest, ACallbackMayRemoveItself)
{
  SelfRemoving s;
  s.scheduler = scheduler;
  s.id = scheduler->add (SelfRemoving::on_deadline, &s);
  Recorder other;
  ClockScheduler::Client *other_id = add (other);
  scheduler->set_deadline (s.id, 10 * kMs);
  scheduler->set_deadline (other_id, 10 * kMs);
  EXPECT_TRUE (gst_test_clock_crank (clock));
  EXPECT_EQ (s.calls, 1);
  EXPECT_EQ (other.count (), 1u);
  EXPECT_EQ (waits (), 0u);
  scheduler->remove (other_id);
}

TEST_F (ClockSchedulerTest, OneSchedulerPerClockWhileHeld)
{
  EXPECT_EQ (ClockScheduler::for_clock (GST_CLOCK (clock)), scheduler);
  GstClock *other = gst_test_clock_new ();
  auto other_scheduler = ClockScheduler::for_clock (other);
  EXPECT_NE (other_scheduler, scheduler);
  EXPECT_EQ (other_scheduler->clock (), other);
  /* Released: the clock is no longer referenced by a scheduler. */
  other_scheduler.reset ();
  EXPECT_EQ (GST_OBJECT_REFCOUNT_VALUE (other), 1);
  gst_object_unref (other);
}

TEST (ClockSchedulerSystemClock, EveryDeadlineIsServedNotBeforeItIsDue)
{
  GstClock *clock = gst_system_clock_obtain ();
  auto scheduler = ClockScheduler::for_clock (clock);
  constexpr int kClients = 200;
  std::vector<Recorder> recorders (kClients);
  std::vector<ClockScheduler::Client *> ids;
  std::vector<GstClockTime> deadlines;
  const GstClockTime start = gst_clock_get_time (clock) + 5 * kMs;
  for (int i = 0; i < kClients; i++) {
    recorders[i].clock = clock;
    ids.push_back (scheduler->add (Recorder::on_deadline, &recorders[i]));
    /* Spread over 20 ms, as the calls' packets are. */
    deadlines.push_back (start + i * 100 * GST_USECOND);
    scheduler->set_deadline (ids.back (), deadlines.back ());
  }
  const auto until = std::chrono::steady_clock::now () + std::chrono::seconds (10);
  int served = 0;
  while (std::chrono::steady_clock::now () < until) {
    served = 0;
    for (auto & r : recorders)
      served += r.count () > 0;
    if (served == kClients)
      break;
    std::this_thread::sleep_for (std::chrono::milliseconds (5));
  }
  EXPECT_EQ (served, kClients);
  for (int i = 0; i < kClients; i++) {
    scheduler->remove (ids[i]);
    ASSERT_EQ (recorders[i].count (), 1u) << i;
    EXPECT_GE (recorders[i].calls[0], deadlines[i]) << i;
  }
  scheduler.reset ();
  gst_object_unref (clock);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  ::testing::InitGoogleTest (&argc, argv);
  return RUN_ALL_TESTS ();
}
