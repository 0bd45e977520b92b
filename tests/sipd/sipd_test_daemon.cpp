/* sipd-test-daemon: runs Sipd on loopback for the sipp end-to-end tests.
 * Answers (or rejects) every call per its options, prints one line per call
 * event, and on SIGTERM shuts down gracefully and prints what is still held
 * (RTP ports, registry entries, calls); exit status 0 only if nothing is. */

#include "sipd.h"

#include "rtp_call.h"

#include <glib-unix.h>

#include <cstdio>
#include <memory>
#include <string>

using namespace voxbridge::sipd;

namespace {

gint opt_port = 5060;
gint opt_rtp_min = 30000;
gint opt_rtp_max = 30099;
gint opt_max_calls = 10;
gint opt_answer_delay_ms = 0;
gint opt_reject = 0;
gint opt_hangup_after_ms = 0;
gchar *opt_dial = nullptr;
gint opt_dial_after_ms = 0;
gchar *opt_transport = nullptr;
gchar *opt_refer_to = nullptr;
gint opt_refer_after_ms = 0;

GOptionEntry entries[] = {
  {"port", 0, 0, G_OPTION_ARG_INT, &opt_port, "SIP port on 127.0.0.1", "N"},
  {"transport", 0, 0, G_OPTION_ARG_STRING, &opt_transport, "udp,tcp (default both)", "T"},
  {"rtp-min", 0, 0, G_OPTION_ARG_INT, &opt_rtp_min, "first RTP port", "N"},
  {"rtp-max", 0, 0, G_OPTION_ARG_INT, &opt_rtp_max, "last RTP port", "N"},
  {"max-calls", 0, 0, G_OPTION_ARG_INT, &opt_max_calls, "call limit", "N"},
  {"answer-delay-ms", 0, 0, G_OPTION_ARG_INT, &opt_answer_delay_ms,
    "answer this long after the INVITE (the launcher building its graph)", "MS"},
  {"reject", 0, 0, G_OPTION_ARG_INT, &opt_reject, "reject calls with this code", "CODE"},
  {"hangup-after-ms", 0, 0, G_OPTION_ARG_INT, &opt_hangup_after_ms,
    "hang up (BYE) this long after the call is confirmed", "MS"},
  {"dial", 0, 0, G_OPTION_ARG_STRING, &opt_dial, "place one call to this URI", "URI"},
  {"dial-after-ms", 0, 0, G_OPTION_ARG_INT, &opt_dial_after_ms, "dial this long after start", "MS"},
  {"refer-to", 0, 0, G_OPTION_ARG_STRING, &opt_refer_to,
    "transfer confirmed calls to this URI (REFER), hang up once it settles", "URI"},
  {"refer-after-ms", 0, 0, G_OPTION_ARG_INT, &opt_refer_after_ms,
    "send the REFER this long after the call is confirmed", "MS"},
  {nullptr}
};

void
say (const std::string &line)
{
  std::printf ("%s\n", line.c_str ());
  std::fflush (stdout);
}

struct Daemon {
  std::unique_ptr<Sipd> sipd;
  GMainLoop *loop = nullptr;
};

void
after_ms (guint ms, std::function<void ()> fn)
{
  auto *data = new std::function<void ()> (std::move (fn));
  g_timeout_add_full (G_PRIORITY_DEFAULT, ms, [] (gpointer d) -> gboolean {
        (*static_cast<std::function<void ()> *> (d)) ();
        return G_SOURCE_REMOVE;
      }, data, [] (gpointer d) { delete static_cast<std::function<void ()> *> (d); });
}

}  // namespace

int
main (int argc, char **argv)
{
  GOptionContext *options = g_option_context_new ("- sipd test daemon");
  g_option_context_add_main_entries (options, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse (options, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (options);

  Daemon daemon;
  daemon.loop = g_main_loop_new (nullptr, FALSE);

  Config config;
  const std::string host_port = "sip:127.0.0.1:" + std::to_string (opt_port);
  std::string transports = opt_transport ? opt_transport : "udp,tcp";
  config.listen_uris.clear ();
  gchar **names = g_strsplit (transports.c_str (), ",", -1);
  for (gchar **name = names; *name != nullptr; name++)
    config.listen_uris.push_back (host_port + ";transport=" + *name);
  g_strfreev (names);
  config.media_address = "127.0.0.1";
  config.rtp_bind_address = "127.0.0.1";
  config.rtp_port_min = static_cast<guint16> (opt_rtp_min);
  config.rtp_port_max = static_cast<guint16> (opt_rtp_max);
  config.max_calls = static_cast<guint> (opt_max_calls);
  config.user_agent = "sipd-test-daemon";

  Callbacks callbacks;
  callbacks.incoming_call = [] (const CallPtr &call) {
    std::string line = "EVENT incoming " + call->id ();
    for (const auto &[k, v] : call->variables ())
      line += " " + k + "=" + v;
    say (line);
    if (opt_reject != 0) {
      call->reject (opt_reject);
      return;
    }
    std::weak_ptr<Call> weak = call;
    after_ms (static_cast<guint> (opt_answer_delay_ms), [weak] () {
      if (CallPtr c = weak.lock ())
        if (!c->answer ())
          say ("EVENT answer-failed " + c->id ());
    });
  };
  callbacks.state_changed = [] (const CallPtr &call, CallState state) {
    std::string line = "EVENT state " + call->id () + " " +
        call_state_to_string (state);
    if (state == CallState::kConfirmed || state == CallState::kAnswered)
      line += " codec=" + call->variable ("rtp.codec") + " pt=" +
          call->variable ("rtp.payload_type") + " dtmf=" +
          call->variable ("rtp.dtmf_payload_type") + " remote=" +
          call->variable ("rtp.remote_address") + ":" +
          call->variable ("rtp.remote_port");
    say (line);
    if (state == CallState::kConfirmed && opt_refer_to != nullptr) {
      std::weak_ptr<Call> weak = call;
      after_ms (static_cast<guint> (opt_refer_after_ms), [weak] () {
        CallPtr c = weak.lock ();
        if (!c)
          return;
        std::string id = c->id ();
        bool sent = c->refer (opt_refer_to, [weak, id] (const ReferProgress &p) {
              say ("EVENT refer " + id + " stage=" +
                  refer_stage_to_string (p.stage) + " status=" +
                  std::to_string (p.status) + " phrase=" + p.phrase);
              if (refer_stage_is_final (p.stage))
                if (CallPtr c2 = weak.lock ())
                  c2->hangup (p.stage == ReferStage::kSucceeded ?
                      "transferred" : "transfer failed");
            }, 10);
        if (!sent)
          say ("EVENT refer-failed " + id);
      });
    }
    if (state == CallState::kConfirmed && opt_hangup_after_ms > 0) {
      std::weak_ptr<Call> weak = call;
      after_ms (static_cast<guint> (opt_hangup_after_ms), [weak] () {
        if (CallPtr c = weak.lock ())
          c->hangup ("test daemon hangup");
      });
    }
  };
  callbacks.hold_changed = [] (const CallPtr &call, bool held) {
    auto rtp = call->rtp ();
    say ("EVENT hold " + call->id () + " held=" + (held ? "1" : "0") +
        " send=" + (rtp && rtp->params ().send ? "1" : "0"));
  };
  callbacks.dtmf = [] (const CallPtr &call, char digit, guint duration_ms) {
    say ("EVENT dtmf " + call->id () + " " + std::string (1, digit) + " " +
        std::to_string (duration_ms));
  };
  callbacks.ended = [] (const CallPtr &call, const CallEnd &end) {
    const char *by = end.by == EndedBy::kLocal ? "local" :
        end.by == EndedBy::kRemote ? "remote" : "error";
    say ("EVENT ended " + call->id () + " by=" + by + " status=" +
        std::to_string (end.status) + " reason=" + end.reason);
  };

  std::string why;
  daemon.sipd = Sipd::create (nullptr, config, callbacks, &why);
  if (!daemon.sipd) {
    g_printerr ("sipd-test-daemon: %s\n", why.c_str ());
    return 2;
  }
  say ("READY " + std::to_string (daemon.sipd->sip_port ()));

  if (opt_dial != nullptr) {
    Sipd *sipd = daemon.sipd.get ();
    after_ms (static_cast<guint> (opt_dial_after_ms), [sipd] () {
      DialRequest request;
      request.to = opt_dial;
      request.from = "\"Voxbridge\" <sip:bot@127.0.0.1:" +
          std::to_string (opt_port) + ">";
      request.headers = {{"X-Test", "dial"},
          {"User-to-User", "68656c6c6f;encoding=hex"}};
      std::string error;
      CallPtr call = sipd->dial (request, &error);
      say (call ? "EVENT dialing " + call->id () : "EVENT dial-failed " + error);
    });
  }

  auto on_signal = [] (gpointer data) -> gboolean {
    auto *d = static_cast<Daemon *> (data);
    say ("EVENT shutdown calls=" + std::to_string (d->sipd->calls ().size ()));
    d->sipd->shutdown ([d] () { g_main_loop_quit (d->loop); });
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add (SIGTERM, on_signal, &daemon);
  g_unix_signal_add (SIGINT, on_signal, &daemon);

  g_main_loop_run (daemon.loop);

  size_t ports = daemon.sipd->rtp_ports_in_use ();
  size_t calls = daemon.sipd->calls ().size ();
  size_t registry = voxbridge::RtpCallRegistry::instance ().size ();
  daemon.sipd.reset ();
  say ("STATS rtp_ports_in_use=" + std::to_string (ports) + " registry=" +
      std::to_string (registry) + " calls=" + std::to_string (calls));
  g_main_loop_unref (daemon.loop);
  return ports == 0 && registry == 0 && calls == 0 ? 0 : 1;
}
