/* Event hub: bounded per-subscriber queues, drop on overflow. */

#include "event_hub.h"

#include <algorithm>

namespace voxbridge::launcher {

std::vector<CallEvent>
EventHub::Subscription::take (size_t max)
{
  std::lock_guard<std::mutex> guard (lock_);
  const size_t n = std::min (max, queue_.size ());
  std::vector<CallEvent> events (std::make_move_iterator (queue_.begin ()),
      std::make_move_iterator (queue_.begin () + n));
  queue_.erase (queue_.begin (), queue_.begin () + n);
  return events;
}

bool
EventHub::Subscription::overflowed () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return overflowed_;
}

std::shared_ptr<EventHub::Subscription>
EventHub::subscribe (size_t capacity, Notify notify, std::string call_filter)
{
  auto subscription = std::make_shared<Subscription> ();
  subscription->capacity_ = std::max<size_t> (capacity, 1);
  subscription->notify_ = std::move (notify);
  subscription->call_filter_ = std::move (call_filter);
  std::lock_guard<std::mutex> guard (lock_);
  subscriptions_.push_back (subscription);
  return subscription;
}

void
EventHub::unsubscribe (const std::shared_ptr<Subscription> & subscription)
{
  std::lock_guard<std::mutex> guard (lock_);
  subscriptions_.erase (std::remove (subscriptions_.begin (), subscriptions_.end (),
          subscription), subscriptions_.end ());
}

void
EventHub::publish (CallEvent event)
{
  std::vector<std::shared_ptr<Subscription>> to_notify;
  {
    std::lock_guard<std::mutex> guard (lock_);
    event.sequence = next_sequence_++;
    for (auto it = subscriptions_.begin (); it != subscriptions_.end ();) {
      Subscription & s = **it;
      bool drop = false;
      {
        std::lock_guard<std::mutex> sub_guard (s.lock_);
        if (!s.call_filter_.empty () && s.call_filter_ != event.call_id) {
          ++it;
          continue;
        }
        if (s.queue_.size () >= s.capacity_) {
          s.overflowed_ = true;
          s.queue_.clear ();
          drop = true;
        } else {
          s.queue_.push_back (event);
        }
      }
      to_notify.push_back (*it);
      if (drop) {
        dropped_++;
        it = subscriptions_.erase (it);
      } else {
        ++it;
      }
    }
  }
  for (const auto & subscription : to_notify) {
    if (subscription->notify_)
      subscription->notify_ ();
  }
}

size_t
EventHub::subscriber_count () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return subscriptions_.size ();
}

size_t
EventHub::dropped_count () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return dropped_;
}

}  // namespace voxbridge::launcher
