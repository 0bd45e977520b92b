#pragma once
/* The end-of-call summary: at hang-up the model is asked, out of band
 * (realtimesink request-text-response: text only, conversation "none", so
 * the conversation is its context but is not changed), for a short summary
 * of the call; its text comes back as realtime-output-text of the tagged
 * response.
 *
 * A spoken answer still being generated when the caller hangs up would make
 * the service refuse a second response, so the request waits for it to end
 * (response-started/done are watched all through the call). Everything runs
 * on the daemon's main context. */

#include <gst/gst.h>

#include <functional>
#include <string>

namespace voxbridge::launcher {

class CallSummary {
 public:
  /* @text is empty and @error set when there is no summary. */
  using Done = std::function<void (const std::string & text, const std::string & error)>;

  explicit CallSummary (guint timeout_s);
  ~CallSummary ();
  CallSummary (const CallSummary &) = delete;
  CallSummary & operator= (const CallSummary &) = delete;

  /* Every bus message of the call's graph, during and after the call. */
  void on_message (GstMessage * message);

  /* Asks @pipeline's realtimesink for the summary; @done is called once,
   * later, on the main context (also on timeout or failure). */
  void request (GstElement * pipeline, Done done);

  static const char *instructions ();

 private:
  static gboolean on_timeout (gpointer data);
  void send_request ();
  void finish (const std::string & text, const std::string & error);
  /* Reports @error from the main loop, never from inside request(). */
  void fail_later (const std::string & error);

  guint timeout_s_;
  GstElement *sink_ = nullptr;
  Done done_;
  int spoken_responses_active_ = 0;
  bool waiting_to_send_ = false;
  bool sent_ = false;
  std::string response_id_;
  guint timer_ = 0;
  guint idle_ = 0;
  std::string idle_error_;
};

}  // namespace voxbridge::launcher
