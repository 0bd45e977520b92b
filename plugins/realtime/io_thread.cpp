/* Shared network executor for Realtime sessions. */
#include "io_thread.h"

#include <mutex>
#include <vector>

namespace voxbridge::realtime {

namespace {

GMainContext *io_context = nullptr;
GThread *io_thread = nullptr;

gpointer
io_thread_main (gpointer data)
{
  GMainContext *ctx = static_cast<GMainContext *> (data);
  g_main_context_push_thread_default (ctx);
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  g_main_loop_run (loop);     /* runs for the life of the process */
  g_main_loop_unref (loop);
  g_main_context_pop_thread_default (ctx);
  return nullptr;
}

/* Work handed over by other threads. One wakeup of the I/O thread runs
 * everything queued until then: with many calls, their 20 ms chunks share
 * wakeups instead of costing one each. */
/* Never destroyed, like the I/O thread itself: work still queued at exit
 * must not run its destructors (a session's) from the exiting thread. */
std::mutex & pending_lock = *new std::mutex;
std::vector<std::function<void ()>> & pending = *new std::vector<std::function<void ()>>;

gboolean
run_pending (gpointer)
{
  std::vector<std::function<void ()>> batch;
  {
    std::lock_guard<std::mutex> guard (pending_lock);
    batch.swap (pending);
  }
  for (auto & fn : batch)
    fn ();
  return G_SOURCE_REMOVE;
}

}  // namespace

GMainContext *
IoThread::context ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    io_context = g_main_context_new ();
    io_thread = g_thread_new ("voxbridge-rt-io", io_thread_main, io_context);
    g_once_init_leave (&once, 1);
  }
  return io_context;
}

void
IoThread::run (std::function<void ()> fn)
{
  GMainContext *ctx = context ();
  if (g_main_context_is_owner (ctx)) {
    fn ();
    return;
  }
  bool wake;
  {
    std::lock_guard<std::mutex> guard (pending_lock);
    wake = pending.empty ();
    pending.push_back (std::move (fn));
  }
  /* Otherwise a wakeup is already on its way and takes this along. An
   * attached source (not g_main_context_invoke) always runs on the I/O
   * thread, even before that thread first owns the context. */
  if (wake) {
    GSource *source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, run_pending, nullptr, nullptr);
    g_source_attach (source, ctx);
    g_source_unref (source);
  }
}

bool
IoThread::is_current ()
{
  return g_main_context_is_owner (context ());
}

}  // namespace voxbridge::realtime
