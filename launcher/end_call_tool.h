#pragma once
/* end_call: the model ends the call. Its function output says yes, so the
 * model says goodbye; once that goodbye has been played to the caller the
 * call is hung up with outcome "ended_by_ai".
 *
 * Played means: the response that follows the output is done, and neither
 * realtimesrc nor siprtpsink holds audio any more (their `queued-ms`, read
 * every 20 ms, zero three times in a row). A realtimesrc without `queued-ms`
 * counts as drained once it has sent two silence (GAP) frames after the
 * response; a siprtpsink without it gets a fixed grace period. A limit hangs
 * up anyway, so a model that never answers cannot keep the call open. */

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>

#include "call_tools.h"

namespace voxbridge::launcher {

class EndCallTool {
 public:
  static constexpr guint kDefaultLimitMs = 30000;

  EndCallTool (const CallToolsHooks & hooks, guint limit_ms = kDefaultLimitMs);
  ~EndCallTool ();
  EndCallTool (const EndCallTool &) = delete;
  EndCallTool & operator= (const EndCallTool &) = delete;

  void handle (const ToolCall & call, ToolDone done);
  void handle_element_message (const GstStructure * s);

 private:
  enum class Stage { kIdle, kAwaitingResponse, kSpeaking, kDraining, kDone };

  static gboolean on_poll (gpointer data);
  static gboolean on_limit (gpointer data);

  void start_draining ();
  bool drained ();
  void watch_silence_frames ();
  /* Last step: nothing of this object is used after the hook. */
  void hang_up (const std::string & why);
  void clear_timers ();

  const CallToolsHooks & hooks_;
  const guint limit_ms_;
  Stage stage_ = Stage::kIdle;
  std::string reason_;          /* the model's "reason" argument */
  std::string response_id_;     /* the goodbye's response */
  guint poll_timer_ = 0;
  guint limit_timer_ = 0;
  guint quiet_polls_ = 0;
  gint64 drain_started_us_ = 0;
  gint64 called_at_us_ = 0;
  /* Silence frames realtimesrc sent since the goodbye response was done
   * (pad probe, streaming thread). */
  std::shared_ptr<std::atomic<guint>> silence_frames_;
  GstPad *probed_pad_ = nullptr;
  gulong probe_id_ = 0;
};

}  // namespace voxbridge::launcher
