#pragma once
/* What a call leaves behind (route keys recording, transcript, summary;
 * launcher/CONFIG.md): the stereo recording, the transcript file and the
 * end-of-call summary.
 *
 * Recording: attach() inserts a tee after the graph's siprtpsrc (the caller)
 * and before its siprtpsink (the AI as the caller hears it, restamped with
 * its wire time; realtimesrc's output when there is no siprtpsink) and
 * feeds both to a callrecorder element, so no pipeline file has to carry a recording branch and every
 * shipped pipeline (G.711 passthrough or 24 kHz PCM) is recorded the same
 * way: the recorder decodes whatever the taps carry. It holds its input
 * until the answer, whose running time is sample 0 of the file (as in
 * voxbridge-call's own recording and the transcript's times).
 *
 * End of call: finish() takes the graph over from the CallSession, which
 * then forgets it:
 *   1. the recorder's taps are cut (EOS into the recorder only) and the
 *      RTP elements are stopped: the SIP call is over, the AI session stays;
 *   2. the summary, if asked for, is requested of the still-open session;
 *   3. once the recording has drained and the summary has come (each with a
 *      time limit), the transcript is renamed to its final name, the files
 *      and the summary are announced as call events (and the summary posted
 *      to the route's webhook), and only then does the graph go to NULL.
 * While that runs the CallRecording keeps itself alive; the daemon waits
 * for all of them at shutdown (when_all_finished), and GET /calls/{id} of a
 * recent call still lists its files (recent_call). */

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "call_control.h"
#include "call_event.h"
#include "deployment_config.h"

namespace voxbridge::launcher {

class CallSummary;
class TranscriptWriter;
class WebhookClient;

class CallRecording : public std::enable_shared_from_this<CallRecording> {
 public:
  using Publish = std::function<void (CallEvent event)>;

  CallRecording (std::string call_id, std::string route, CallRecordSettings settings,
      Publish publish);
  ~CallRecording ();
  CallRecording (const CallRecording &) = delete;
  CallRecording & operator= (const CallRecording &) = delete;

  /* Before @pipeline goes PLAYING: adds the recording branch (route
   * recording); FALSE when the graph cannot be recorded (logged, the call
   * goes on unrecorded). */
  bool attach (GstElement * pipeline);
  /* The call was answered: the recording and the transcript's clock start. */
  void on_answered (GstElement * pipeline);
  /* Every bus message of the graph while the CallSession watches it. */
  void on_message (GstMessage * message);
  /* Takes @pipeline (a reference) over and ends it as described above. */
  void finish (GstElement * pipeline);

  /* GET /calls/{id}: the call's files so far. */
  std::vector<CallRecordInfo> records () const;

  /* Runs @done once no CallRecording is finishing (at once if none). */
  static void when_all_finished (std::function<void ()> done);
  /* A call that ended lately, with its files; nullopt when unknown. */
  static std::optional<CallInfo> recent_call (const std::string & id);
  static void set_recent_call_info (const std::string & id, CallInfo info);

 private:
  struct ItemTimes {
    std::string item_id;
    gint64 start_mono_us = 0;
    gint64 start_wall_us = 0;
    gint64 end_mono_us = 0;
  };

  static gboolean on_bus_message (GstBus * bus, GstMessage * message, gpointer data);
  static gboolean on_drain_timeout (gpointer data);
  void handle_finishing_message (GstMessage * message);
  void write_transcript (const std::string & speaker, const std::string & item_id,
      const std::string & text);
  ItemTimes & item (std::vector<ItemTimes> & items, const std::string & item_id);
  void cut_recorder_inputs ();
  void stop_rtp_elements ();
  void on_summary (const std::string & text, const std::string & error);
  void maybe_done ();
  void done ();
  void publish (CallEventType type, std::vector<std::pair<std::string, std::string>> fields);

  const std::string call_id_;
  const std::string route_;
  const CallRecordSettings settings_;
  Publish publish_;

  GstElement *pipeline_ = nullptr;    /* from finish() on */
  GstElement *recorder_ = nullptr;
  struct Tap {
    GstElement *tee = nullptr;
    GstPad *tee_pad = nullptr;        /* request pad feeding the recorder */
    GstPad *recorder_pad = nullptr;
  };
  Tap taps_[2];                       /* caller, ai */
  std::string recording_path_;
  std::string recording_state_ = "off";   /* off, held, recording, draining, done, failed */
  guint64 recording_bytes_ = 0;
  double recording_duration_s_ = 0;
  gint64 recording_started_mono_us_ = 0;

  std::unique_ptr<TranscriptWriter> transcript_;
  std::string transcript_path_;
  std::string transcript_state_ = "off";
  std::vector<ItemTimes> caller_items_, ai_items_;

  std::unique_ptr<CallSummary> summary_;
  std::unique_ptr<WebhookClient> webhook_;
  bool summary_pending_ = false;
  bool webhook_pending_ = false;

  gint64 answered_mono_us_ = 0;
  gint64 answered_wall_us_ = 0;
  guint bus_watch_ = 0;
  guint drain_timer_ = 0;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace voxbridge::launcher
