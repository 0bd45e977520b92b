#include "clock_scheduler.h"

#include <algorithm>
#include <unordered_map>

namespace voxbridge {

namespace {

/* Earliest entry on top of the std heap functions' max-heap. */
struct Later {
  template <typename E> bool operator() (const E & a, const E & b) const {
    return a.time > b.time;
  }
};

GstClockTime
round_up (GstClockTime time)
{
  const GstClockTime g = ClockScheduler::kGranularity;
  return (time + g - 1) / g * g;
}

std::mutex registry_lock;

std::unordered_map<GstClock *, std::weak_ptr<ClockScheduler>> &
registry ()
{
  /* Never destroyed: schedulers may outlive static destruction. */
  static auto *schedulers = new std::unordered_map<GstClock *,
      std::weak_ptr<ClockScheduler>> ();
  return *schedulers;
}

}  // namespace

std::shared_ptr<ClockScheduler>
ClockScheduler::for_clock (GstClock * clock)
{
  std::lock_guard<std::mutex> guard (registry_lock);
  std::weak_ptr<ClockScheduler> & slot = registry ()[clock];
  std::shared_ptr<ClockScheduler> scheduler = slot.lock ();
  if (!scheduler) {
    scheduler.reset (new ClockScheduler (clock));
    slot = scheduler;
  }
  return scheduler;
}

ClockScheduler::ClockScheduler (GstClock * clock)
    : clock_ (GST_CLOCK (gst_object_ref (clock)))
{
}

ClockScheduler::~ClockScheduler ()
{
  {
    std::lock_guard<std::mutex> guard (registry_lock);
    auto it = registry ().find (clock_);
    /* A scheduler made for the clock since this one died stays. */
    if (it != registry ().end () && it->second.expired ())
      registry ().erase (it);
  }
  if (armed_) {
    gst_clock_id_unschedule (armed_);
    gst_clock_id_unref (armed_);
  }
  gst_object_unref (clock_);
}

ClockScheduler::Client *
ClockScheduler::add (Callback callback, gpointer data)
{
  std::lock_guard<std::mutex> guard (lock_);
  clients_.push_back (std::make_unique<Client> ());
  Client *client = clients_.back ().get ();
  client->callback = callback;
  client->data = data;
  return client;
}

void
ClockScheduler::set_deadline (Client * client, GstClockTime time)
{
  std::lock_guard<std::mutex> guard (lock_);
  client->deadline = time;
  if (!GST_CLOCK_TIME_IS_VALID (time))
    return;                     /* its entry is skipped when it comes up */
  const GstClockTime due = round_up (time);
  /* Filed for the same time or earlier: when that comes up the entry is
   * filed again for this deadline (a moving talk-spurt deadline costs no
   * wakeup of the clock's thread). */
  if (GST_CLOCK_TIME_IS_VALID (client->filed_at) && client->filed_at <= due)
    return;
  file_locked (client, due);
  /* While deadlines are being served, the clock's thread looks at the heap
   * again before it waits. */
  if (!dispatching_ && (armed_ == nullptr || due < armed_time_))
    arm_locked ();
}

void
ClockScheduler::remove (Client * client)
{
  std::unique_lock<std::mutex> lock (lock_);
  const bool on_dispatch_thread = dispatching_ &&
      dispatch_thread_ == std::this_thread::get_id ();
  if (!on_dispatch_thread)
    callback_done_.wait (lock, [this, client] { return running_ != client; });
  auto owned = std::find_if (clients_.begin (), clients_.end (),
      [client] (const std::unique_ptr<Client> & c) { return c.get () == client; });
  if (owned == clients_.end ())
    return;
  const auto before = heap_.size ();
  heap_.erase (std::remove_if (heap_.begin (), heap_.end (),
          [client] (const Entry & e) { return e.client == client; }), heap_.end ());
  clients_.erase (owned);
  if (heap_.size () != before) {
    std::make_heap (heap_.begin (), heap_.end (), Later ());
    if (!dispatching_)
      arm_locked ();
  }
}

void
ClockScheduler::file_locked (Client * client, GstClockTime time)
{
  client->generation++;
  client->filed_at = time;
  heap_.push_back ({time, client, client->generation});
  std::push_heap (heap_.begin (), heap_.end (), Later ());
}

/* Waits on the clock for the earliest entry (only that one wait). */
void
ClockScheduler::arm_locked ()
{
  const GstClockTime top = heap_.empty () ? GST_CLOCK_TIME_NONE : heap_.front ().time;
  if (armed_ && armed_time_ == top)
    return;
  if (armed_) {
    gst_clock_id_unschedule (armed_);
    gst_clock_id_unref (armed_);
    armed_ = nullptr;
    armed_time_ = GST_CLOCK_TIME_NONE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (top))
    return;
  armed_ = gst_clock_new_single_shot_id (clock_, top);
  armed_time_ = top;
  auto *self = new std::weak_ptr<ClockScheduler> (shared_from_this ());
  if (gst_clock_id_wait_async (armed_, on_clock, self, [] (gpointer data) {
            delete static_cast<std::weak_ptr<ClockScheduler> *> (data);
          }) != GST_CLOCK_OK) {
    /* Only a clock without async waits fails here (a pipeline clock the
     * application chose): every pacer on it stalls, so say so loudly. */
    g_warning ("clock %s cannot wait asynchronously: RTP pacing on it stops",
        GST_OBJECT_NAME (clock_));
    gst_clock_id_unref (armed_);
    armed_ = nullptr;
    armed_time_ = GST_CLOCK_TIME_NONE;
  }
}

gboolean
ClockScheduler::on_clock (GstClock *, GstClockTime, GstClockID id, gpointer data)
{
  /* The clock's thread; the scheduler may be going away. */
  if (std::shared_ptr<ClockScheduler> self =
      static_cast<std::weak_ptr<ClockScheduler> *> (data)->lock ())
    self->dispatch (id);
  return TRUE;
}

/* Serves every deadline reached, then waits for the next. */
void
ClockScheduler::dispatch (GstClockID fired)
{
  std::unique_lock<std::mutex> lock (lock_);
  if (fired != armed_)
    return;                     /* replaced since it fired */
  gst_clock_id_unref (armed_);
  armed_ = nullptr;
  armed_time_ = GST_CLOCK_TIME_NONE;
  dispatching_ = true;
  dispatch_thread_ = std::this_thread::get_id ();
  const GstClockTime now = gst_clock_get_time (clock_);
  while (!heap_.empty () && heap_.front ().time <= now) {
    std::pop_heap (heap_.begin (), heap_.end (), Later ());
    const Entry entry = heap_.back ();
    heap_.pop_back ();
    Client *client = entry.client;
    if (client->generation != entry.generation)
      continue;                 /* superseded by an earlier entry */
    client->filed_at = GST_CLOCK_TIME_NONE;
    if (!GST_CLOCK_TIME_IS_VALID (client->deadline))
      continue;                 /* cancelled */
    const GstClockTime due = round_up (client->deadline);
    if (due > now) {
      file_locked (client, due);  /* moved later meanwhile */
      continue;
    }
    client->deadline = GST_CLOCK_TIME_NONE;
    const Callback callback = client->callback;
    gpointer data = client->data;
    running_ = client;
    lock.unlock ();
    callback (data);
    lock.lock ();
    running_ = nullptr;
    callback_done_.notify_all ();
  }
  dispatching_ = false;
  arm_locked ();
}

}  // namespace voxbridge
