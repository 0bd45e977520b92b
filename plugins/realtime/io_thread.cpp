/* Shared network executor for Realtime sessions. */
#include "io_thread.h"

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

gboolean
run_closure (gpointer data)
{
  (*static_cast<std::function<void ()> *> (data)) ();
  return G_SOURCE_REMOVE;
}

void
free_closure (gpointer data)
{
  delete static_cast<std::function<void ()> *> (data);
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
  g_main_context_invoke_full (context (), G_PRIORITY_DEFAULT, run_closure,
      new std::function<void ()> (std::move (fn)), free_closure);
}

bool
IoThread::is_current ()
{
  return g_main_context_is_owner (context ());
}

}  // namespace voxbridge::realtime
