#pragma once
/* What voxbridge-call tells its user: one timestamped line per call event
 * as it happens, and at the end a summary (one JSON object with --json, for
 * scripts and benchmarks). */

#include <json-glib/json-glib.h>

#include <cstdio>
#include <string>

namespace voxbridge::call {

class CallReport {
 public:
  /* Event lines go to @events (stdout, or stderr when stdout carries JSON). */
  explicit CallReport (FILE *events);
  ~CallReport ();
  CallReport (const CallReport &) = delete;
  CallReport & operator= (const CallReport &) = delete;

  /* "[  1.234] @text", seconds since the report was created. */
  void event (const std::string &text);

  void set_string (const std::string &key, const std::string &value);
  void set_int (const std::string &key, gint64 value);
  void set_double (const std::string &key, double value);

  /* JSON on stdout, or nothing (the event lines said it all). */
  void print_summary (bool json) const;

 private:
  FILE *events_;
  gint64 start_us_;
  JsonObject *summary_;
};

}  // namespace voxbridge::call
