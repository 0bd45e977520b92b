#pragma once
/* The call event log: one line per call event, for people (text) or for
 * log pipelines (JSON lines), as [log] format says. */

#include <gio/gio.h>

#include <memory>
#include <mutex>

#include "call_event.h"
#include "deployment_config.h"

namespace voxbridge::launcher {

class CallEventLog {
 public:
  /* Writes to @stream (a reference is taken). */
  CallEventLog (EventLogFormat format, GOutputStream * stream);
  ~CallEventLog ();
  CallEventLog (const CallEventLog &) = delete;
  CallEventLog & operator= (const CallEventLog &) = delete;

  /* Standard output, or [log] events-file opened for appending. */
  static std::unique_ptr<CallEventLog> open (const LogSettings & settings, GError ** error);

  /* Writes and flushes one line; thread-safe. Returns FALSE on I/O error
   * (also logged with g_warning once). */
  bool write (const CallEvent & event);

 private:
  const EventLogFormat format_;
  GOutputStream *stream_;
  std::mutex lock_;
  bool warned_ = false;
};

}  // namespace voxbridge::launcher
