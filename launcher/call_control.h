#pragma once
/* What the HTTP API needs from the daemon's call handling; the daemon
 * implements it on top of sipd. Called on the HTTP server's main context. */

#include <glib.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace voxbridge::launcher {

/* A file a call leaves behind (route recording / transcript). */
struct CallRecordInfo {
  std::string kind;             /* "recording" | "transcript" */
  std::string path;             /* its final name (NAME.part until finished) */
  std::string format;           /* "wav" | "ogg" | "jsonl" */
  std::string state;            /* "held" | "recording" | "draining" | "done" | "failed" */
  guint64 bytes = 0;
  double duration_s = 0;        /* recording: audio length; transcript: 0 */
  guint lines = 0;              /* transcript: lines written */
};

struct CallInfo {
  std::string id;
  std::string direction;        /* "inbound" | "outbound" */
  std::string state;            /* "ringing" | "answered" | "ending" */
  std::string from;
  std::string to;
  std::string route;
  std::string codec;            /* empty until negotiated */
  gint64 started_at_us = 0;     /* wall clock */
  gint64 answered_at_us = 0;    /* 0 while not answered */
  /* Details only (GET /calls/{id}): */
  std::string pipeline_state;   /* "PLAYING", ... empty when no pipeline */
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> variables;   /* the rendered pipeline's variables */
  std::vector<CallRecordInfo> records;             /* recording, transcript */
};

struct DialRequest {
  std::string to;               /* SIP URI or number to call */
  std::string from;             /* optional caller id */
  std::string route;            /* route whose pipeline runs once answered */
  std::map<std::string, std::string> variables;   /* extra var.* for the pipeline */
};

struct DialResult {
  std::string call_id;          /* set on success */
  guint http_status = 0;        /* on failure: 400 bad request, 404 no such route, 503 busy */
  std::string error;            /* on failure, for the response body */

  bool ok () const { return !call_id.empty (); }
};

class CallControl {
 public:
  virtual ~CallControl () = default;

  virtual std::vector<CallInfo> list_calls () const = 0;
  virtual std::optional<CallInfo> find_call (const std::string & id) const = 0;
  /* Starts hanging up; FALSE when there is no such call. */
  virtual bool hang_up (const std::string & id) = 0;
  /* Starts an outbound call; progress is reported as call events. */
  virtual DialResult dial (const DialRequest & request) = 0;
};

}  // namespace voxbridge::launcher
