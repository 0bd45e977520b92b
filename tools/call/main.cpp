/* voxbridge-call: a SIP caller for demos, end-to-end tests and benchmarks.
 * Dials a SIP URI, speaks a WAV file as G.711 RTP once the call is answered,
 * records what it hears, hangs up and writes a stereo WAV of the call: what
 * it sent on the left channel, what it heard on the right, both aligned on
 * the moment of the answer.
 *
 *   voxbridge-call sip:ai@127.0.0.1:5060 --play question.wav --record call.wav
 *
 * Exit status: 0 completed call, 1 the call failed (rejected, no answer,
 * media error), 2 bad usage, 3 --max-seconds reached, 4 recording not
 * written. */

#include "call_media.h"
#include "call_recording.h"
#include "call_report.h"

#include "sipd.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace voxbridge::sipd;
using namespace voxbridge::call;

namespace {

enum ExitStatus {
  kExitCompleted = 0,
  kExitCallFailed = 1,
  kExitUsage = 2,
  kExitTimeout = 3,
  kExitRecordingFailed = 4,
};

struct Options {
  gchar *play = nullptr;
  gchar *record = nullptr;
  gchar *from = nullptr;
  gchar **headers = nullptr;
  gint hangup_after_ms = 0;
  gint wait_silence_ms = 2500;
  gint max_seconds = 60;
  gint answer_timeout_s = 30;
  gchar *codec = nullptr;
  gchar *local_address = nullptr;
  gint sip_port = 0;
  gint rtp_min = 41000;
  gint rtp_max = 41999;
  gboolean json = FALSE;
  gboolean verbose = FALSE;
};

Options opts;

GOptionEntry entries[] = {
  {"play", 'p', 0, G_OPTION_ARG_FILENAME, &opts.play,
    "WAV file to speak once answered (required)", "FILE"},
  {"record", 'r', 0, G_OPTION_ARG_FILENAME, &opts.record,
    "Stereo WAV of the call: left = sent, right = received (required)", "FILE"},
  {"from", 0, 0, G_OPTION_ARG_STRING, &opts.from,
    "From URI (default sip:caller@ADDRESS:PORT)", "URI"},
  {"header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &opts.headers,
    "Extra INVITE header \"Name: value\" (repeatable)", "HEADER"},
  {"hangup-after-ms", 0, 0, G_OPTION_ARG_INT, &opts.hangup_after_ms,
    "Hang up this long after the answer (overrides --wait-silence-ms)", "MS"},
  {"wait-silence-ms", 0, 0, G_OPTION_ARG_INT, &opts.wait_silence_ms,
    "Hang up once the far end has been quiet this long after the question "
    "(default 2500)", "MS"},
  {"max-seconds", 0, 0, G_OPTION_ARG_INT, &opts.max_seconds,
    "Give up (exit 3) after this long in the call (default 60)", "S"},
  {"answer-timeout", 0, 0, G_OPTION_ARG_INT, &opts.answer_timeout_s,
    "Cancel if not answered within this long (default 30)", "S"},
  {"codec", 0, 0, G_OPTION_ARG_STRING, &opts.codec,
    "Offer only this codec: PCMU or PCMA (default both, PCMU first)", "CODEC"},
  {"local-address", 0, 0, G_OPTION_ARG_STRING, &opts.local_address,
    "Local IPv4 address for SIP and RTP (default 127.0.0.1)", "ADDRESS"},
  {"sip-port", 0, 0, G_OPTION_ARG_INT, &opts.sip_port,
    "Local SIP UDP port (default: a free one)", "PORT"},
  {"rtp-min", 0, 0, G_OPTION_ARG_INT, &opts.rtp_min, "First local RTP port", "PORT"},
  {"rtp-max", 0, 0, G_OPTION_ARG_INT, &opts.rtp_max, "Last local RTP port", "PORT"},
  {"json", 0, 0, G_OPTION_ARG_NONE, &opts.json,
    "Print a JSON summary on stdout (event lines go to stderr)", nullptr},
  {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opts.verbose,
    "Also print the SIP stack's messages", nullptr},
  {nullptr}
};

/* A UDP port on @address nobody holds right now. */
guint16
free_udp_port (const std::string &address, std::string *error)
{
  GError *err = nullptr;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);
  guint16 port = 0;
  if (socket != nullptr) {
    GSocketAddress *any = g_inet_socket_address_new_from_string (
        address.c_str (), 0);
    if (any != nullptr && g_socket_bind (socket, any, FALSE, &err)) {
      GSocketAddress *bound = g_socket_get_local_address (socket, &err);
      if (bound != nullptr) {
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
        g_object_unref (bound);
      }
    }
    if (any != nullptr)
      g_object_unref (any);
    g_object_unref (socket);
  }
  if (port == 0) {
    *error = err != nullptr ? err->message : "no free UDP port";
    g_clear_error (&err);
  }
  return port;
}

/* Makes a build-tree binary find the plugin built next to it
 * (<builddir>/tools/call -> <builddir>/plugins) when it is not installed, and
 * loads every plugin the call's graph needs now rather than after the answer,
 * so the question starts without a plugin-loading delay. */
bool
load_plugins (std::string *missing)
{
  GstElementFactory *factory = gst_element_factory_find ("siprtpsink");
  if (factory != nullptr) {
    gst_object_unref (factory);
  } else {
    gchar *exe = g_file_read_link ("/proc/self/exe", nullptr);
    if (exe != nullptr) {
      gchar *bindir = g_path_get_dirname (exe);
      gchar *plugins = g_build_filename (bindir, "..", "..", "plugins", nullptr);
      gst_registry_scan_path (gst_registry_get (), plugins);
      g_free (plugins);
      g_free (bindir);
      g_free (exe);
    }
  }
  const char *needed[] = {"filesrc", "wavparse", "audioconvert", "audioresample",
    "tee", "queue", "mulawenc", "mulawdec", "alawenc", "alawdec", "siprtpsink",
    "siprtpsrc", "level", "appsink", "appsrc", "wavenc", "filesink"};
  for (const char *name : needed) {
    factory = gst_element_factory_find (name);
    GstPluginFeature *loaded = factory != nullptr ?
        gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory)) : nullptr;
    if (factory != nullptr)
      gst_object_unref (factory);
    if (loaded == nullptr) {
      *missing = name;
      return false;
    }
    gst_object_unref (loaded);
  }
  return true;
}

class Caller {
 public:
  Caller (GMainLoop *loop, CallReport *report) : loop_ (loop), report_ (report) {}

  bool dial (Sipd *sipd, const DialRequest &request)
  {
    sipd_ = sipd;
    dial_time_us_ = g_get_monotonic_time ();
    report_->event ("dialing " + request.to);
    std::string error;
    call_ = sipd->dial (request, &error);
    if (!call_) {
      fail (kExitCallFailed, "cannot dial " + request.to + ": " + error);
      finish ();
      return false;
    }
    report_->set_string ("call_id", call_->id ());
    answer_timer_ = g_timeout_add_seconds (static_cast<guint> (opts.answer_timeout_s),
        [] (gpointer data) -> gboolean {
          auto *self = static_cast<Caller *> (data);
          self->answer_timer_ = 0;
          self->fail (kExitCallFailed, "no answer within " +
              std::to_string (opts.answer_timeout_s) + " s");
          self->call_->hangup ("no answer");
          return G_SOURCE_REMOVE;
        }, this);
    return true;
  }

  void on_state (const CallPtr &call, CallState state)
  {
    switch (state) {
      case CallState::kRinging:
        report_->event ("ringing");
        break;
      case CallState::kAnswered:
        on_answered (call);
        break;
      case CallState::kConfirmed:
        report_->event ("confirmed (ACK sent)");
        break;
      default:
        break;
    }
  }

  void on_ended (const CallPtr &call, const CallEnd &end)
  {
    const gint64 now = g_get_monotonic_time ();
    if (media_) {
      media_->stop ();
      recording_.limit (Channel::kCaller, media_->sent_ms ());
    }
    const char *by = end.by == EndedBy::kLocal ? "local" :
        end.by == EndedBy::kRemote ? "remote" : "error";
    report_->set_string ("ended_by", by);
    report_->set_int ("end_status", end.status);
    report_->set_string ("end_reason", end.reason);
    if (answer_time_us_ == 0) {
      if (exit_status_ == kExitCompleted)
        fail (kExitCallFailed, end.by == EndedBy::kRemote ?
            "call rejected: " + std::to_string (end.status) + " " + end.reason :
            "call failed: " + std::to_string (end.status) + " " + end.reason);
      else
        report_->event ("call ended: " + std::to_string (end.status) + " " +
            end.reason);
      finish ();
      return;
    }
    report_->set_int ("duration_ms", (now - answer_time_us_) / 1000);
    if (end.by == EndedBy::kLocal)
      report_->event ("hung up" + (hangup_reason_.empty () ? std::string () :
              " (" + hangup_reason_ + ")"));
    else
      report_->event (std::string (end.by == EndedBy::kRemote ?
              "remote hung up: " : "call failed: ") +
          std::to_string (end.status) + " " + end.reason);
    if (end.by == EndedBy::kError && exit_status_ == kExitCompleted)
      fail (kExitCallFailed, "call failed: " + end.reason);

    if (media_) {
      report_->set_int ("far_end_speech_ms",
          static_cast<gint64> (media_->far_end_speech_ms ()));
      report_->set_int ("sent_ms", static_cast<gint64> (media_->sent_ms ()));
    }
    report_->set_double ("received_audio_s",
        static_cast<double> (recording_.received_ms (Channel::kFarEnd)) / 1000.0);
    guint64 recording_ms = 0;
    std::string error;
    if (recording_.write_wav (opts.record, &recording_ms, &error)) {
      report_->set_string ("recording", opts.record);
      report_->set_int ("recording_ms", static_cast<gint64> (recording_ms));
      report_->event (std::string ("recording ") + opts.record + ": " +
          format_seconds (recording_ms) + " (sent " +
          format_seconds (recording_.received_ms (Channel::kCaller)) +
          ", received " +
          format_seconds (recording_.received_ms (Channel::kFarEnd)) + ")");
    } else if (exit_status_ == kExitCompleted) {
      fail (kExitRecordingFailed, error);
    }
    finish ();
  }

 private:
  static std::string format_seconds (guint64 ms)
  {
    gchar *text = g_strdup_printf ("%.2f s", static_cast<double> (ms) / 1000.0);
    std::string result = text;
    g_free (text);
    return result;
  }

  void on_answered (const CallPtr &call)
  {
    if (answer_timer_ != 0) {
      g_source_remove (answer_timer_);
      answer_timer_ = 0;
    }
    answer_time_us_ = g_get_monotonic_time ();
    const GstClockTime answer_time =
        static_cast<GstClockTime> (answer_time_us_) * GST_USECOND;
    const std::string codec = call->variable ("rtp.codec");
    const gint64 setup_ms = (answer_time_us_ - dial_time_us_) / 1000;
    report_->set_int ("setup_ms", setup_ms);
    report_->set_string ("codec", codec);
    report_->set_string ("sip_call_id", call->variable ("call.sip_id"));
    report_->event ("answered after " + std::to_string (setup_ms) + " ms, codec " +
        codec + ", far end RTP " + call->variable ("rtp.remote_address") + ":" +
        call->variable ("rtp.remote_port"));

    MediaSettings settings;
    settings.call_id = call->id ();
    settings.codec = codec;
    settings.play_path = opts.play;
    MediaEvents events;
    events.question_sent = [this] (guint64 question_ms) {
      question_end_us_ = g_get_monotonic_time ();
      report_->set_int ("question_ms", static_cast<gint64> (question_ms));
      report_->set_int ("question_sent_at_ms", since_answer_ms ());
      report_->event ("question sent (" + format_seconds (question_ms) + ")");
    };
    events.far_end_started = [this] () {
      const gint64 at = since_answer_ms ();
      report_->event ("far end audio started");
      if (!heard_far_end_) {
        heard_far_end_ = true;
        report_->set_int ("first_far_end_audio_ms", at);
      }
      if (question_end_us_ != 0 && !responded_) {
        responded_ = true;
        report_->set_int ("response_latency_ms",
            (g_get_monotonic_time () - question_end_us_) / 1000);
      }
    };
    events.far_end_stopped = [this] () {
      report_->event ("far end audio stopped");
    };
    events.failed = [this] (const std::string &message) {
      fail (kExitCallFailed, "media error: " + message);
      hangup ("media error");
    };
    std::string error;
    media_ = CallMedia::create (settings, &recording_, std::move (events), &error);
    if (!media_ || !media_->start (answer_time, &error)) {
      fail (kExitCallFailed, error);
      hangup ("media error");
      return;
    }
    watch_timer_ = g_timeout_add (50, on_watch, this);
  }

  gint64 since_answer_ms () const
  {
    return (g_get_monotonic_time () - answer_time_us_) / 1000;
  }

  /* Decides when to hang up. */
  static gboolean on_watch (gpointer data)
  {
    auto *self = static_cast<Caller *> (data);
    const gint64 now = g_get_monotonic_time ();
    const gint64 in_call_ms = (now - self->answer_time_us_) / 1000;
    if (opts.hangup_after_ms > 0) {
      if (in_call_ms >= opts.hangup_after_ms) {
        self->watch_timer_ = 0;
        self->hangup ("after " + std::to_string (opts.hangup_after_ms) + " ms");
        return G_SOURCE_REMOVE;
      }
    } else if (self->question_end_us_ != 0 && !self->media_->far_end_speaking ()) {
      const gint64 quiet_from = std::max (self->question_end_us_,
          self->media_->last_speech_us ());
      if ((now - quiet_from) / 1000 >= opts.wait_silence_ms) {
        self->watch_timer_ = 0;
        self->hangup ("far end quiet for " + std::to_string (opts.wait_silence_ms) +
            " ms");
        return G_SOURCE_REMOVE;
      }
    }
    if (in_call_ms >= static_cast<gint64> (opts.max_seconds) * 1000) {
      self->watch_timer_ = 0;
      self->fail (kExitTimeout, "still in the call after " +
          std::to_string (opts.max_seconds) + " s (--max-seconds)");
      self->hangup ("max-seconds");
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }

 public:
  void hangup (const std::string &reason)
  {
    if (hanging_up_)
      return;
    hanging_up_ = true;
    hangup_reason_ = reason;
    if (watch_timer_ != 0) {
      g_source_remove (watch_timer_);
      watch_timer_ = 0;
    }
    if (call_ && !call_->hangup (reason))
      finish ();
  }

  int exit_status () const { return exit_status_; }

 private:
  void fail (ExitStatus status, const std::string &message)
  {
    if (exit_status_ != kExitCompleted)
      return;
    exit_status_ = status;
    report_->set_string ("error", message);
    report_->event ("error: " + message);
  }

  void finish ()
  {
    if (finished_)
      return;
    finished_ = true;
    if (answer_timer_ != 0) {
      g_source_remove (answer_timer_);
      answer_timer_ = 0;
    }
    if (watch_timer_ != 0) {
      g_source_remove (watch_timer_);
      watch_timer_ = 0;
    }
    report_->set_string ("result",
        exit_status_ == kExitCompleted ? "completed" : "failed");
    report_->set_int ("exit_status", exit_status_);
    GMainLoop *loop = loop_;
    sipd_->shutdown ([loop] () { g_main_loop_quit (loop); });
  }

  GMainLoop *loop_;
  CallReport *report_;
  Sipd *sipd_ = nullptr;
  CallPtr call_;
  CallRecording recording_;
  std::unique_ptr<CallMedia> media_;
  ExitStatus exit_status_ = kExitCompleted;
  gint64 dial_time_us_ = 0;
  gint64 answer_time_us_ = 0;
  gint64 question_end_us_ = 0;
  bool heard_far_end_ = false;
  bool responded_ = false;
  bool hanging_up_ = false;
  bool finished_ = false;
  std::string hangup_reason_;
  guint answer_timer_ = 0;
  guint watch_timer_ = 0;
};

/* "Name: value" -> {"Name", "value"}. */
bool
parse_header (const char *text, std::pair<std::string, std::string> *header)
{
  const char *colon = strchr (text, ':');
  if (colon == nullptr || colon == text)
    return false;
  gchar *name = g_strstrip (g_strndup (text, static_cast<gsize> (colon - text)));
  gchar *value = g_strstrip (g_strdup (colon + 1));
  *header = {name, value};
  g_free (name);
  g_free (value);
  return !header->first.empty ();
}

int
usage_error (GOptionContext *context, const std::string &message)
{
  g_printerr ("voxbridge-call: %s (see --help)\n", message.c_str ());
  g_option_context_free (context);
  return kExitUsage;
}

}  // namespace

int
main (int argc, char **argv)
{
  GOptionContext *context = g_option_context_new (
      "SIP-URI - dial, speak a WAV, record the call");
  g_option_context_set_description (context,
      "Example:\n  voxbridge-call sip:ai@127.0.0.1:5060 --play question.wav "
      "--record call.wav\n\nExit status: 0 completed call, 1 call failed, "
      "2 usage, 3 --max-seconds reached, 4 recording not written.\n");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_add_group (context, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &err)) {
    std::string message = err->message;
    g_error_free (err);
    return usage_error (context, message);
  }
  if (argc != 2)
    return usage_error (context, "exactly one SIP URI to dial is needed");
  if (opts.play == nullptr || opts.record == nullptr)
    return usage_error (context, "--play and --record are required");
  if (!g_file_test (opts.play, G_FILE_TEST_IS_REGULAR))
    return usage_error (context, std::string ("cannot read ") + opts.play);
  if (opts.codec != nullptr && g_strcmp0 (opts.codec, "PCMU") != 0 &&
      g_strcmp0 (opts.codec, "PCMA") != 0)
    return usage_error (context, "--codec must be PCMU or PCMA");
  if (opts.max_seconds <= 0 || opts.answer_timeout_s <= 0 ||
      opts.wait_silence_ms < 0 || opts.hangup_after_ms < 0)
    return usage_error (context, "timeouts must be positive");
  if (opts.rtp_min < 1024 || opts.rtp_max > 65535 || opts.rtp_min > opts.rtp_max)
    return usage_error (context, "bad --rtp-min/--rtp-max");
  DialRequest request;
  request.to = argv[1];
  for (gchar **h = opts.headers; h != nullptr && *h != nullptr; h++) {
    std::pair<std::string, std::string> header;
    if (!parse_header (*h, &header))
      return usage_error (context, std::string ("bad --header '") + *h +
          "' (want \"Name: value\")");
    request.headers.push_back (header);
  }
  g_option_context_free (context);

  std::string missing;
  if (!load_plugins (&missing)) {
    g_printerr ("voxbridge-call: no GStreamer element '%s' (is the voxbridge "
        "plugin on GST_PLUGIN_PATH?)\n", missing.c_str ());
    return kExitCallFailed;
  }
  if (!opts.verbose)
    g_log_set_handler ("voxbridge-sipd",
        static_cast<GLogLevelFlags> (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
        [] (const gchar *, GLogLevelFlags, const gchar *, gpointer) {}, nullptr);
  CallReport report (opts.json ? stderr : stdout);

  std::string error;
  const std::string address =
      opts.local_address != nullptr ? opts.local_address : "127.0.0.1";
  guint16 sip_port = static_cast<guint16> (opts.sip_port);
  if (sip_port == 0 && (sip_port = free_udp_port (address, &error)) == 0) {
    g_printerr ("voxbridge-call: %s\n", error.c_str ());
    return kExitCallFailed;
  }
  Config config;
  config.listen_uris = {"sip:" + address + ":" + std::to_string (sip_port) +
      ";transport=udp"};
  config.media_address = address;
  config.rtp_bind_address = address;
  config.rtp_port_min = static_cast<guint16> (opts.rtp_min);
  config.rtp_port_max = static_cast<guint16> (opts.rtp_max);
  config.max_calls = 1;
  config.user_agent = "voxbridge-call";
  if (opts.codec != nullptr)
    config.codecs = {opts.codec};
  request.from = opts.from != nullptr ? opts.from :
      "<sip:caller@" + address + ":" + std::to_string (sip_port) + ">";

  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  Caller caller (loop, &report);
  Callbacks callbacks;
  callbacks.incoming_call = [] (const CallPtr &call) { call->reject (486); };
  callbacks.state_changed = [&caller] (const CallPtr &call, CallState state) {
    caller.on_state (call, state);
  };
  callbacks.ended = [&caller] (const CallPtr &call, const CallEnd &end) {
    caller.on_ended (call, end);
  };
  std::unique_ptr<Sipd> sipd = Sipd::create (nullptr, config, callbacks, &error);
  if (!sipd) {
    g_printerr ("voxbridge-call: cannot start SIP on port %u: %s\n", sip_port,
        error.c_str ());
    return kExitCallFailed;
  }

  auto on_signal = [] (gpointer data) -> gboolean {
    static_cast<Caller *> (data)->hangup ("interrupted");
    return G_SOURCE_CONTINUE;
  };
  g_unix_signal_add (SIGINT, on_signal, &caller);
  g_unix_signal_add (SIGTERM, on_signal, &caller);

  /* A failed dial has already asked sipd to shut down, which ends the loop. */
  caller.dial (sipd.get (), request);
  g_main_loop_run (loop);
  sipd.reset ();
  g_main_loop_unref (loop);

  report.print_summary (opts.json);
  return caller.exit_status ();
}
