#pragma once
/* Fan-out of call events to live subscribers (the SSE clients of
 * GET /events). Publishing never blocks: each subscriber has a bounded
 * queue, and a subscriber whose queue is full is dropped rather than
 * slowing anyone down. Thread-safe. */

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "call_event.h"

namespace voxbridge::launcher {

class EventHub {
 public:
  /* Called on the publishing thread when events were queued or the
   * subscription overflowed; must be quick (schedule the real work). */
  using Notify = std::function<void ()>;

  class Subscription {
   public:
    /* Removes and returns up to @max queued events, oldest first. */
    std::vector<CallEvent> take (size_t max = SIZE_MAX);
    /* TRUE once the queue overflowed; the hub no longer feeds it. */
    bool overflowed () const;

   private:
    friend class EventHub;
    mutable std::mutex lock_;
    std::deque<CallEvent> queue_;
    size_t capacity_ = 0;
    std::string call_filter_;
    bool overflowed_ = false;
    Notify notify_;
  };

  /* @capacity events may wait in the queue; @call_filter, when not empty,
   * keeps only the events of that call. */
  std::shared_ptr<Subscription> subscribe (size_t capacity, Notify notify,
      std::string call_filter = "");
  void unsubscribe (const std::shared_ptr<Subscription> & subscription);

  /* Numbers the event (sequence) and queues it for every subscriber. */
  void publish (CallEvent event);

  size_t subscriber_count () const;
  size_t dropped_count () const;   /* subscribers dropped for overflow */

 private:
  mutable std::mutex lock_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  guint64 next_sequence_ = 1;
  size_t dropped_ = 0;
};

}  // namespace voxbridge::launcher
