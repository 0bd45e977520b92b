#pragma once
/* The media of one placed call, as a GStreamer graph bound to the call's RTP
 * entry (siprtpsrc/siprtpsink call-id=...):
 *
 *   filesrc ! wavparse ! audioconvert ! audioresample ! 8 kHz mono S16 ! tee
 *     tee. ! queue ! mulawenc|alawenc ! siprtpsink      (the question, paced)
 *     tee. ! queue ! appsink                             (recording, left)
 *   siprtpsrc ! mulawdec|alawdec ! audioconvert ! level ! appsink   (right)
 *
 * The end of the question does not reach siprtpsink: it keeps sending
 * silence, as a phone does, so the far end's VAD hears the pause and its RTP
 * inactivity timers stay quiet. Events are delivered on the thread-default
 * main context. */

#include "call_recording.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace voxbridge::call {

struct MediaEvents {
  /* The whole question went out on the wire. */
  std::function<void (guint64 question_ms)> question_sent;
  /* Far-end speech began/ended (level above/below the threshold). */
  std::function<void ()> far_end_started;
  std::function<void ()> far_end_stopped;
  std::function<void (const std::string &message)> failed;
};

struct MediaSettings {
  std::string call_id;
  std::string codec = "PCMU";         /* PCMU or PCMA, as negotiated */
  std::string play_path;              /* WAV file, any rate/channels */
  double speech_threshold_db = -45.0; /* far-end RMS counted as speech */
  guint speech_hangover_ms = 400;     /* quiet this long ends a talk spurt */
};

class CallMedia {
 public:
  /* Builds the graph; nullptr and @error when an element is missing. */
  static std::unique_ptr<CallMedia> create (const MediaSettings &settings,
      CallRecording *recording, MediaEvents events, std::string *error);
  ~CallMedia ();
  CallMedia (const CallMedia &) = delete;
  CallMedia & operator= (const CallMedia &) = delete;

  /* Starts sending and receiving; the recording's origin is @answer_time
   * (a monotonic clock time in ns: g_get_monotonic_time () * 1000 at the
   * answer; the pipeline runs on the monotonic system clock). */
  bool start (GstClockTime answer_time, std::string *error);
  /* Stops everything; safe to call more than once. */
  void stop ();

  bool far_end_speaking () const { return speaking_; }
  guint64 far_end_speech_ms () const;
  /* Monotonic time (us) the far end was last heard speaking, 0 = never. */
  gint64 last_speech_us () const { return quiet_since_us_; }
  /* Question audio that went out on the wire (frozen by stop ()). */
  guint64 sent_ms () const;

 private:
  CallMedia () = default;
  static gboolean on_bus_message (GstBus *bus, GstMessage *message,
      gpointer user_data);
  static gboolean on_poll (gpointer user_data);
  void on_level (const GstStructure *structure);

  MediaSettings settings_;
  MediaEvents events_;
  CallRecording *recording_ = nullptr;
  GstElement *pipeline_ = nullptr;
  GstElement *rtp_sink_ = nullptr;
  guint bus_watch_ = 0;
  guint poll_source_ = 0;

  /* The question's length, known once its end reached the recorder. */
  std::atomic<gint64> question_ms_ {-1};
  bool question_sent_ = false;

  bool speaking_ = false;
  gint64 quiet_since_us_ = 0;      /* monotonic time of the last loud level */
  gint64 speech_started_us_ = 0;
  guint64 speech_ms_ = 0;
  bool stopped_ = false;
  guint64 sent_ms_at_stop_ = 0;
};

}  // namespace voxbridge::call
