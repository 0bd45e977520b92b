#pragma once
/* The one thread on which the process does its call media network I/O: a
 * GMainContext shared by every Realtime session (and the RTP receiver), so
 * that 200 calls cost one thread, not 200. Other threads hand it work with
 * run(). */

#include <glib.h>

#include <functional>

namespace voxbridge {

class IoThread {
 public:
  /* Starts the thread on first use; it lives as long as the process. */
  static GMainContext *context ();
  /* Runs @fn on the I/O thread (at once when called from it). */
  static void run (std::function<void ()> fn);
  static bool is_current ();
};

}  // namespace voxbridge
