#pragma once
/* The one thread on which every Realtime session does its network I/O: a
 * GMainContext shared by all sessions in the process, so that 200 calls cost
 * one thread, not 200. Other threads hand it work with run(). */

#include <glib.h>

#include <functional>

namespace voxbridge::realtime {

class IoThread {
 public:
  /* Starts the thread on first use; it lives as long as the process. */
  static GMainContext *context ();
  /* Runs @fn on the I/O thread (at once when called from it). */
  static void run (std::function<void ()> fn);
  static bool is_current ();
};

}  // namespace voxbridge::realtime
