#pragma once
/* Many pacers' deadlines on one GstClock, served by a single async wait.
 *
 * Every siprtpsink paces its call on the pipeline clock. With one async
 * clock id per call, GstSystemClock keeps a sorted list of hundreds of
 * entries and its thread wakes for each of them; worse, a talk-spurt moves
 * its "audio missing" deadline on with every 20 ms buffer, and each move
 * was an unschedule (a wakeup of the clock's thread) and a sorted insert.
 * Here a process keeps one wait per clock, at the earliest deadline
 * rounded up to a whole millisecond of the clock (the pacers of every call
 * due within that millisecond are served by one wakeup, none more than
 * 1 ms late), and a deadline that moves later costs nothing: its old entry
 * is found stale when it comes up and filed again then.
 *
 * Callbacks run on the clock's thread (the system clock has one for every
 * async wait of the process), one at a time, without any lock of the
 * scheduler held: they may set deadlines, their own included. */

#include <gst/gst.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace voxbridge {

class ClockScheduler : public std::enable_shared_from_this<ClockScheduler> {
 public:
  using Callback = void (*) (gpointer data);
  /* Deadlines are served at whole multiples of this on the clock. */
  static constexpr GstClockTime kGranularity = GST_MSECOND;

  /* The scheduler of @clock, shared by every user of that clock in the
   * process while any holds it. */
  static std::shared_ptr<ClockScheduler> for_clock (GstClock * clock);
  ~ClockScheduler ();
  ClockScheduler (const ClockScheduler &) = delete;
  ClockScheduler & operator= (const ClockScheduler &) = delete;

  GstClock *clock () const { return clock_; }

  struct Client;
  /* A client: @callback (@data) runs when a deadline it set is reached.
   * The handle is valid until remove(). */
  Client *add (Callback callback, gpointer data);
  /* Runs @client's callback once the clock reaches @time (absolute clock
   * time), replacing the deadline it had; GST_CLOCK_TIME_NONE: none. A
   * deadline reached is consumed: the callback sets the next one. */
  void set_deadline (Client * client, GstClockTime time);
  /* The callback never runs again; when this returns on another thread
   * than the clock's, it is not running either. @client is gone. */
  void remove (Client * client);

  struct Client {
    Callback callback;
    gpointer data;
    GstClockTime deadline = GST_CLOCK_TIME_NONE;
    /* The one entry of the heap that stands for this client (older ones
     * carry an older generation and are skipped), and its time. */
    guint64 generation = 0;
    GstClockTime filed_at = GST_CLOCK_TIME_NONE;
  };

 private:
  /* Entries of a removed client leave the heap with it. */
  struct Entry {
    GstClockTime time;
    Client *client;
    guint64 generation;
  };

  explicit ClockScheduler (GstClock * clock);
  static gboolean on_clock (GstClock * clock, GstClockTime time, GstClockID id,
      gpointer data);
  void dispatch (GstClockID fired);
  void file_locked (Client * client, GstClockTime time);
  void arm_locked ();

  GstClock *clock_;
  std::mutex lock_;
  std::condition_variable callback_done_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Entry> heap_;     /* min-heap on time */
  GstClockID armed_ = nullptr;  /* the one wait on the clock */
  GstClockTime armed_time_ = GST_CLOCK_TIME_NONE;
  bool dispatching_ = false;    /* the clock's thread is serving deadlines */
  std::thread::id dispatch_thread_;
  Client *running_ = nullptr;   /* the client whose callback runs */
};

}  // namespace voxbridge
