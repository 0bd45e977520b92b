/* Call event log writer. */

#include "call_event_log.h"

#include <gio/gunixoutputstream.h>
#include <unistd.h>

namespace voxbridge::launcher {

CallEventLog::CallEventLog (EventLogFormat format, GOutputStream * stream)
  : format_ (format), stream_ (G_OUTPUT_STREAM (g_object_ref (stream)))
{
}

CallEventLog::~CallEventLog ()
{
  g_object_unref (stream_);
}

std::unique_ptr<CallEventLog>
CallEventLog::open (const LogSettings & settings, GError ** error)
{
  GOutputStream *stream = nullptr;
  if (settings.events_file.empty ()) {
    stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  } else {
    GFile *file = g_file_new_for_path (settings.events_file.c_str ());
    stream = G_OUTPUT_STREAM (g_file_append_to (file, G_FILE_CREATE_NONE, nullptr, error));
    g_object_unref (file);
    if (!stream)
      return nullptr;
  }
  auto log = std::make_unique<CallEventLog> (settings.format, stream);
  g_object_unref (stream);
  return log;
}

bool
CallEventLog::write (const CallEvent & event)
{
  std::string line = format_ == EventLogFormat::Json
      ? format_call_event_json (event) : format_call_event_text (event);
  line += '\n';
  std::lock_guard<std::mutex> guard (lock_);
  GError *err = nullptr;
  const bool ok = g_output_stream_write_all (stream_, line.data (), line.size (),
      nullptr, nullptr, &err) && g_output_stream_flush (stream_, nullptr, &err);
  if (!ok) {
    if (!warned_)
      g_warning ("call event log: %s", err->message);
    warned_ = true;
    g_clear_error (&err);
  }
  return ok;
}

}  // namespace voxbridge::launcher
