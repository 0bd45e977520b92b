#pragma once
/* The transcript file of one call: JSON lines, one per final transcript of
 * either side, written as it happens and finished atomically at hang-up
 * (see AtomicFile). A line:
 *
 *   {"speaker":"caller","text":"I need help","item_id":"item_1",
 *    "start_ms":1250,"end_ms":2900,"time":"2025-03-01T12:00:01.250Z"}
 *
 * start_ms/end_ms are milliseconds since the answer (the recording's time
 * 0): for the caller from speech_started to speech_stopped, for the AI from
 * its first transcript delta to the last; time is the wall clock of the
 * start. */

#include <glib.h>

#include <memory>
#include <string>

#include "atomic_file.h"

namespace voxbridge::launcher {

struct TranscriptLine {
  std::string speaker;     /* "caller" | "ai" */
  std::string text;
  std::string item_id;
  double start_s = 0;      /* since the answer */
  double end_s = 0;
  gint64 start_wall_us = 0;
};

/* The JSON object of @line, no newline. */
std::string transcript_line_json (const TranscriptLine & line);

class TranscriptWriter {
 public:
  /* Creates @path's .part file; nullptr with @error on failure. */
  static std::unique_ptr<TranscriptWriter> create (const std::string & path,
      std::string & error);

  /* Appends @line; FALSE with @error when the disk refused it. */
  bool add (const TranscriptLine & line, std::string & error);
  /* Renames the file to its final name. */
  bool finish (std::string & error);

  const std::string & path () const { return file_->path (); }
  guint64 bytes () const { return file_->bytes (); }
  guint lines () const { return lines_; }

 private:
  explicit TranscriptWriter (std::unique_ptr<AtomicFile> file) : file_ (std::move (file)) {}
  std::unique_ptr<AtomicFile> file_;
  guint lines_ = 0;
};

}  // namespace voxbridge::launcher
