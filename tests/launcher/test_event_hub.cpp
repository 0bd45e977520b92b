/* Event hub: fan-out, call filter, bounded queues and dropping. */

#include <gtest/gtest.h>

#include <atomic>

#include "event_hub.h"

using namespace voxbridge::launcher;

TEST (EventHub, DeliversToEverySubscriberInOrder)
{
  EventHub hub;
  int notified_a = 0, notified_b = 0;
  auto a = hub.subscribe (10, [&] { notified_a++; });
  auto b = hub.subscribe (10, [&] { notified_b++; });
  hub.publish (CallEvent::now (CallEventType::CallStarted, "c1"));
  hub.publish (CallEvent::now (CallEventType::CallEnded, "c1"));
  EXPECT_EQ (notified_a, 2);
  EXPECT_EQ (notified_b, 2);
  auto events = a->take ();
  ASSERT_EQ (events.size (), 2u);
  EXPECT_EQ (events[0].type, CallEventType::CallStarted);
  EXPECT_EQ (events[0].sequence, 1u);
  EXPECT_EQ (events[1].sequence, 2u);
  EXPECT_EQ (b->take (1).size (), 1u);
  EXPECT_EQ (b->take ().size (), 1u);
  EXPECT_TRUE (a->take ().empty ());
}

TEST (EventHub, FiltersByCall)
{
  EventHub hub;
  int notified = 0;
  auto only_c2 = hub.subscribe (10, [&] { notified++; }, "c2");
  hub.publish (CallEvent::now (CallEventType::Dtmf, "c1", {{"digit", "1"}}));
  hub.publish (CallEvent::now (CallEventType::Dtmf, "c2", {{"digit", "2"}}));
  auto events = only_c2->take ();
  ASSERT_EQ (events.size (), 1u);
  EXPECT_STREQ (events[0].field ("digit"), "2");
  EXPECT_EQ (notified, 1);
}

TEST (EventHub, DropsASubscriberWhoseQueueIsFull)
{
  EventHub hub;
  auto slow = hub.subscribe (2, nullptr);
  auto fast = hub.subscribe (2, nullptr);
  for (int i = 0; i < 3; i++) {
    hub.publish (CallEvent::now (CallEventType::AiText, "c"));
    fast->take ();
  }
  EXPECT_TRUE (slow->overflowed ());
  EXPECT_TRUE (slow->take ().empty ());
  EXPECT_FALSE (fast->overflowed ());
  EXPECT_EQ (hub.subscriber_count (), 1u);
  EXPECT_EQ (hub.dropped_count (), 1u);
  hub.publish (CallEvent::now (CallEventType::AiText, "c"));
  EXPECT_TRUE (slow->take ().empty ());
  EXPECT_EQ (fast->take ().size (), 1u);
}

TEST (EventHub, UnsubscribeStopsDelivery)
{
  EventHub hub;
  auto s = hub.subscribe (4, nullptr);
  hub.unsubscribe (s);
  hub.publish (CallEvent::now (CallEventType::AiText, "c"));
  EXPECT_TRUE (s->take ().empty ());
  EXPECT_EQ (hub.subscriber_count (), 0u);
}

TEST (EventHub, PublishesFromManyThreads)
{
  EventHub hub;
  std::atomic<int> notified {0};
  auto s = hub.subscribe (100000, [&] { notified++; });
  std::vector<GThread *> threads;
  for (int i = 0; i < 4; i++) {
    threads.push_back (g_thread_new ("pub", [] (gpointer data) -> gpointer {
          for (int n = 0; n < 1000; n++)
            static_cast<EventHub *> (data)->publish (
                CallEvent::now (CallEventType::AiText, "c"));
          return nullptr;
        }, &hub));
  }
  for (GThread *t : threads)
    g_thread_join (t);
  auto events = s->take ();
  ASSERT_EQ (events.size (), 4000u);
  EXPECT_EQ (notified.load (), 4000);
  for (size_t i = 1; i < events.size (); i++)
    EXPECT_LT (events[i - 1].sequence, events[i].sequence);
}
