/* One benchmark run; see bench_run.h.
 *
 * Timeline: sim + launcher up -> baseline sample -> calls dialled at --rate
 * -> all answered -> 1 s settle -> steady window of --duration (CPU, RSS,
 * threads sampled at both ends) -> callers stop sending, the echo drains ->
 * RTP thread joined -> BYE for every call -> /metrics read -> launcher and
 * sim stopped (the sim writes its timing log) -> correlation. */

#include "bench_run.h"

#include "barge_in_cutoff.h"
#include "launcher_events.h"
#include "process_probe.h"
#include "rtp_engine.h"
#include "timing_correlation.h"

#include "rtp_call.h"
#include "sipd.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/prctl.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

/* Last: spandsp's headers redefine lrint and friends. g711.h uses top_bit()
 * without including its declaration. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace voxbridge::bench {

namespace {

using sipd::CallPtr;
using sipd::CallState;

/* ---- child processes ---- */

void
die_with_parent (gpointer)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocess *
spawn (const std::vector<std::string> &argv, const std::map<std::string, std::string> &env,
    GSubprocessFlags flags, std::string *error)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  for (const auto &[name, value] : env)
    g_subprocess_launcher_setenv (launcher, name.c_str (), value.c_str (), TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, nullptr, nullptr);
  std::vector<const gchar *> args;
  for (const auto &arg : argv)
    args.push_back (arg.c_str ());
  args.push_back (nullptr);
  GError *err = nullptr;
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, args.data (), &err);
  g_object_unref (launcher);
  if (process == nullptr) {
    *error = "cannot start " + argv[0] + ": " + err->message;
    g_error_free (err);
  }
  return process;
}

void
stop_process (GSubprocess *process, int timeout_ms)
{
  if (process == nullptr)
    return;
  g_subprocess_send_signal (process, SIGTERM);
  const gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline) {
    g_main_context_iteration (nullptr, FALSE);
    /* The identifier goes away once the child has been reaped. */
    if (g_subprocess_get_identifier (process) == nullptr)
      return;
    g_usleep (20000);
  }
  g_subprocess_force_exit (process);
  g_subprocess_wait (process, nullptr, nullptr);
}

pid_t
process_pid (GSubprocess *process)
{
  const gchar *id = g_subprocess_get_identifier (process);
  return id ? static_cast<pid_t> (atoi (id)) : 0;
}

guint16
free_port (GSocketType type)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, type,
      type == G_SOCKET_TYPE_DATAGRAM ? G_SOCKET_PROTOCOL_UDP : G_SOCKET_PROTOCOL_TCP, nullptr);
  guint16 port = 0;
  GSocketAddress *any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  if (socket && g_socket_bind (socket, any, FALSE, nullptr)) {
    GSocketAddress *bound = g_socket_get_local_address (socket, nullptr);
    if (bound) {
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      g_object_unref (bound);
    }
  }
  g_object_unref (any);
  if (socket)
    g_object_unref (socket);
  return port;
}

/* GET http://127.0.0.1:@port@path; the body, or empty on failure. HTTP/1.0
 * so the server closes and we read to the end. */
std::string
http_get (guint16 port, const std::string &path)
{
  GSocketClient *client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  GSocketConnection *conn = g_socket_client_connect_to_host (client, "127.0.0.1", port,
      nullptr, nullptr);
  g_object_unref (client);
  if (conn == nullptr)
    return {};
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  std::string response;
  if (g_output_stream_write_all (out, request.data (), request.size (), nullptr, nullptr,
          nullptr)) {
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
    char buffer[16384];
    gssize n;
    while ((n = g_input_stream_read (in, buffer, sizeof buffer, nullptr, nullptr)) > 0)
      response.append (buffer, static_cast<size_t> (n));
  }
  g_object_unref (conn);
  if (response.rfind ("HTTP/1.1 200", 0) != 0 && response.rfind ("HTTP/1.0 200", 0) != 0)
    return {};
  size_t body = response.find ("\r\n\r\n");
  return body == std::string::npos ? std::string () : response.substr (body + 4);
}

/* Sum of the samples of metric @name whose label set contains @label (or
 * all of them when empty), from Prometheus text. */
double
metric_sum (const std::string &text, const std::string &name, const std::string &label = {})
{
  double sum = 0;
  std::istringstream lines (text);
  std::string line;
  while (std::getline (lines, line)) {
    if (line.rfind (name, 0) != 0)
      continue;
    const char next = line.size () > name.size () ? line[name.size ()] : '\0';
    if (next != ' ' && next != '{')
      continue;
    if (!label.empty () && line.find (label) == std::string::npos)
      continue;
    size_t space = line.rfind (' ');
    sum += g_ascii_strtod (line.c_str () + space + 1, nullptr);
  }
  return sum;
}

bool
write_file (const std::string &path, const std::string &text, std::string *error)
{
  GError *err = nullptr;
  if (!g_file_set_contents (path.c_str (), text.c_str (), static_cast<gssize> (text.size ()),
          &err)) {
    *error = err->message;
    g_error_free (err);
    return false;
  }
  return true;
}

/* The route's pipeline, made measurable: the caller's name (From user)
 * goes into the model's instructions, where the sim's timing log finds it,
 * and the jitter buffer latency is stated. */
bool
make_bench_pipeline (const Paths &paths, const RunSettings &settings, std::string *out_path,
    std::string *error)
{
  const std::string name = settings.mode == "pcm24k" ? "connect-evt-pcm24k.pipeline" :
      "connect-evt-g711.pipeline";
  const std::string source = paths.pipelines_dir + "/" + name;
  gchar *text = nullptr;
  if (!g_file_get_contents (source.c_str (), &text, nullptr, nullptr)) {
    *error = "cannot read " + source;
    return false;
  }
  std::string pipeline = text;
  g_free (text);
  auto replace = [&pipeline] (const std::string &from, const std::string &to) {
    size_t at = pipeline.find (from);
    if (at == std::string::npos)
      return false;
    pipeline.replace (at, from.size (), to);
    return true;
  };
  if (!replace ("instructions=${instructions}", "instructions=${from.user}") ||
      !replace ("siprtpsrc call-id=${call.id}",
          "siprtpsrc call-id=${call.id} latency=" + std::to_string (settings.jitter_ms))) {
    *error = source + " no longer has 'instructions=${instructions}' and "
        "'siprtpsrc call-id=${call.id}': update make_bench_pipeline";
    return false;
  }
  *out_path = paths.work_dir + "/bench-" + name;
  return write_file (*out_path, pipeline, error);
}

/* The callers' audio in bargein mode: the speech cut into phrases of
 * 1.6 s with 1.6 s of silence after each. The server's VAD ends the turn
 * 0.5 s into the pause and answers (several seconds of speech, sent faster
 * than real time), and the next phrase starts about a second into the
 * answer: an interruption every 3.2 s per call. */
std::vector<uint8_t>
phrases_with_pauses (const std::vector<uint8_t> &speech)
{
  constexpr size_t kPhrase = 8000 * 16 / 10, kPause = 8000 * 16 / 10;
  std::vector<uint8_t> out;
  for (size_t at = 0; at + kPhrase <= speech.size (); at += kPhrase) {
    out.insert (out.end (), speech.begin () + static_cast<long> (at),
        speech.begin () + static_cast<long> (at + kPhrase));
    out.insert (out.end (), kPause, 0xFF);
  }
  if (out.empty ())
    out = speech;
  return out;
}

/* ---- the calls ---- */

struct BenchCall {
  int index = 0;
  std::string name;            /* From user, e.g. bench-7 */
  CallPtr call;
  std::shared_ptr<RtpCall> rtp;  /* keeps the socket open until the end */
  std::shared_ptr<RtpStream> stream;
  int64_t dial_ns = 0;
  int64_t answer_ns = 0;
  bool failed = false;
  bool ended = false;
};

class CallDriver {
 public:
  CallDriver (const RunSettings &settings, const std::vector<uint8_t> &speech, RtpEngine *engine)
    : settings_ (settings), speech_ (speech), engine_ (engine) {}

  bool start_sip (guint16 launcher_sip_port, std::string *error)
  {
    launcher_port_ = launcher_sip_port;
    sip_port_ = free_port (G_SOCKET_TYPE_DATAGRAM);
    sipd::Config config;
    config.listen_uris = {"sip:127.0.0.1:" + std::to_string (sip_port_) + ";transport=udp"};
    config.media_address = "127.0.0.1";
    config.rtp_bind_address = "127.0.0.1";
    /* A range away from the launcher's (which picks its own), wide enough
     * for two benchmarks at once (the pool skips ports in use). */
    config.rtp_port_min = 46000;
    config.rtp_port_max = 59999;
    config.max_calls = static_cast<guint> (settings_.calls + 10);
    config.user_agent = "voxbridge-bench";
    config.codecs = {"PCMU"};
    config.answer_timeout_s = 0;
    sipd::Callbacks callbacks;
    callbacks.incoming_call = [] (const CallPtr &call) { call->reject (486); };
    callbacks.state_changed = [this] (const CallPtr &call, CallState state) {
      if (state == CallState::kAnswered)
        on_answered (call);
    };
    callbacks.ended = [this] (const CallPtr &call, const sipd::CallEnd &) { on_ended (call); };
    sipd_ = sipd::Sipd::create (nullptr, config, callbacks, error);
    return sipd_ != nullptr;
  }

  void dial_next ()
  {
    auto bench_call = std::make_unique<BenchCall> ();
    bench_call->index = static_cast<int> (calls_.size ());
    bench_call->name = "bench-" + std::to_string (bench_call->index);
    sipd::DialRequest request;
    request.to = "sip:bench@127.0.0.1:" + std::to_string (launcher_port_);
    request.from = "<sip:" + bench_call->name + "@127.0.0.1:" + std::to_string (sip_port_) + ">";
    bench_call->dial_ns = monotonic_ns ();
    std::string error;
    bench_call->call = sipd_->dial (request, &error);
    if (!bench_call->call) {
      bench_call->failed = true;
      bench_call->ended = true;
      g_printerr ("voxbridge-bench: dial %s failed: %s\n", bench_call->name.c_str (),
          error.c_str ());
    } else {
      by_id_[bench_call->call->id ()] = bench_call.get ();
    }
    calls_.push_back (std::move (bench_call));
  }

  void hangup_all ()
  {
    for (auto &c : calls_)
      if (c->call && !c->ended)
        c->call->hangup ("benchmark done");
  }

  void shutdown ()
  {
    if (!sipd_)
      return;
    auto done = std::make_shared<bool> (false);
    sipd_->shutdown ([done] () { *done = true; });
    const gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (!*done && g_get_monotonic_time () < deadline)
      g_main_context_iteration (nullptr, TRUE);
    if (*done) {
      sipd_.reset ();
    } else {
      /* Sofia aborts when a nua is destroyed before its shutdown completed
       * (an overloaded launcher stopped answering): leave it. */
      g_printerr ("voxbridge-bench: SIP shutdown did not complete in 30 s; leaving it\n");
      (void) sipd_.release ();
    }
  }

  int settled () const
  {
    int n = 0;
    for (auto &c : calls_)
      if (c->answer_ns != 0 || c->failed)
        n++;
    return n;
  }
  int ended () const
  {
    int n = 0;
    for (auto &c : calls_)
      if (c->ended)
        n++;
    return n;
  }
  std::vector<std::unique_ptr<BenchCall>> &calls () { return calls_; }

 private:
  void on_answered (const CallPtr &call)
  {
    auto it = by_id_.find (call->id ());
    if (it == by_id_.end ())
      return;
    BenchCall *c = it->second;
    c->answer_ns = monotonic_ns ();
    c->rtp = RtpCallRegistry::instance ().find (call->id ());
    if (!c->rtp) {
      c->failed = true;
      return;
    }
    const RtpMediaParams params = c->rtp->params ();
    auto stream = std::make_shared<RtpStream> ();
    stream->fd = g_socket_get_fd (c->rtp->socket ());
    stream->remote.sin_family = AF_INET;
    stream->remote.sin_port = htons (params.remote_port);
    inet_pton (AF_INET, params.remote_address.c_str (), &stream->remote.sin_addr);
    stream->payload_type = params.payload_type;
    stream->ssrc = static_cast<uint32_t> (g_random_int ());
    stream->audio = &speech_;
    /* Each call starts elsewhere in the speech loop, so no two calls carry
     * the same audio at the same time (the content matching relies on it). */
    stream->audio_pos = (static_cast<size_t> (c->index) * 8 * 160 * 7) % speech_.size ();
    c->stream = stream;
    engine_->add (stream);
  }

  void on_ended (const CallPtr &call)
  {
    auto it = by_id_.find (call->id ());
    if (it == by_id_.end ())
      return;
    BenchCall *c = it->second;
    if (c->answer_ns == 0)
      c->failed = true;
    c->ended = true;
  }

  const RunSettings &settings_;
  const std::vector<uint8_t> &speech_;
  RtpEngine *engine_;
  std::unique_ptr<sipd::Sipd> sipd_;
  guint16 sip_port_ = 0;
  guint16 launcher_port_ = 0;
  std::vector<std::unique_ptr<BenchCall>> calls_;
  std::map<std::string, BenchCall *> by_id_;
};

/* Runs the default main context for @ms, or until @done says so. */
template <typename Done>
bool
iterate_until (gint64 ms, Done done)
{
  const gint64 deadline = g_get_monotonic_time () + ms * 1000;
  while (!done ()) {
    if (g_get_monotonic_time () >= deadline)
      return false;
    g_main_context_iteration (nullptr, FALSE);
    g_usleep (1000);
  }
  return true;
}

void
iterate_for (gint64 ms)
{
  iterate_until (ms, [] () { return false; });
}

std::vector<int16_t>
ulaw_to_linear_samples (const std::vector<uint8_t> &ulaw)
{
  std::vector<int16_t> linear (ulaw.size ());
  for (size_t i = 0; i < ulaw.size (); i++)
    linear[i] = ulaw_to_linear (ulaw[i]);
  return linear;
}

}  // namespace

bool
run_sustained (const RunResult &r, std::string *why)
{
  if (!r.error.empty ())
    *why = r.error;
  else if (r.calls_failed > 0)
    *why = std::to_string (r.calls_failed) + " call(s) not answered";
  else if (r.caller_lost + r.caller_late > 0 || r.launcher_lost + r.launcher_late > 0)
    *why = "RTP lost or late";
  else if (r.graph_dropped_ms > 0)
    *why = "model audio discarded in the graph";
  else if (r.to_ai.count == 0 || r.to_ai.p99 > 100)
    *why = "caller audio more than 100 ms late at the model (p99)";
  else
    return true;
  return false;
}

RunResult
run_benchmark (const RunSettings &settings, const Paths &paths,
    const std::vector<uint8_t> &speech)
{
  RunResult result;
  result.settings = settings;
  const bool barge_in_mode = settings.mode == "bargein";
  const bool g711 = settings.mode == "g711" || barge_in_mode;
  const std::vector<uint8_t> turns = barge_in_mode ? phrases_with_pauses (speech) : speech;
  std::string error;

  std::string pipeline_path;
  if (!make_bench_pipeline (paths, settings, &pipeline_path, &error)) {
    result.error = error;
    return result;
  }

  /* The off-line Realtime server: echoing, or answering each turn. */
  const std::string timing_path = paths.work_dir + "/sim-timing-" + settings.mode + "-" +
      std::to_string (settings.calls) + ".log";
  GSubprocess *sim = spawn ({paths.sim, "--port", "0", "--behaviour",
      barge_in_mode ? "speak" : "echo", "--timing-log",
      timing_path}, {}, static_cast<GSubprocessFlags> (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
          G_SUBPROCESS_FLAGS_STDERR_SILENCE), &error);
  if (sim == nullptr) {
    result.error = error;
    return result;
  }
  GDataInputStream *sim_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim));
  gchar *line = g_data_input_stream_read_line (sim_out, nullptr, nullptr, nullptr);
  std::string sim_url;
  if (line != nullptr) {
    const std::string text = line;
    const size_t at = text.find ("ws://");
    if (at != std::string::npos)
      sim_url = text.substr (at);
  }
  g_free (line);
  g_object_unref (sim_out);
  if (sim_url.empty ()) {
    result.error = "the Realtime sim did not start (" + paths.sim + ")";
    stop_process (sim, 2000);
    g_object_unref (sim);
    return result;
  }

  /* The launcher, on free loopback ports. */
  const guint16 sip_port = free_port (G_SOCKET_TYPE_DATAGRAM);
  const guint16 http_port = free_port (G_SOCKET_TYPE_STREAM);
  const int rtp_low = 30000 + 2 * (g_random_int_range (0, 2000));
  const std::string events_path = paths.work_dir + "/events-" + settings.mode + "-" +
      std::to_string (settings.calls) + ".log";
  std::ostringstream config;
  config << "# generated by voxbridge-bench\n"
         << "[sip]\nlisten = udp://127.0.0.1:" << sip_port << "\n"
         << "media-address = 127.0.0.1\n"
         << "rtp-ports = " << rtp_low << "-" << rtp_low + 2 * settings.calls + 200 << "\n"
         << "max-calls = " << settings.calls + 10 << "\n\n"
         << "[ai]\nurl = " << sim_url << "/v1/realtime\nmodel = bench\nconnect-timeout = 30\n\n"
         << "[http]\nlisten = 127.0.0.1:" << http_port << "\n\n"
         << "[log]\nformat = json\nevents-file = " << events_path << "\n\n"
         << "[route bench]\npipeline = " << pipeline_path << "\n"
         /* On (the default), the sim's VAD events flush the echo queued in
          * realtimesrc at every word, as a caller's speech would. */
         << "barge-in = " << (settings.barge_in ? "true" : "false") << "\n";
  const std::string config_path = paths.work_dir + "/bench-" + settings.mode + ".conf";
  if (!write_file (config_path, config.str (), &error)) {
    result.error = error;
    stop_process (sim, 2000);
    g_object_unref (sim);
    return result;
  }
  std::map<std::string, std::string> env;
  if (!paths.plugin_dir.empty ())
    env["GST_PLUGIN_PATH_1_0"] = paths.plugin_dir;
  GSubprocess *launcher = spawn ({paths.launcher, "--config", config_path}, env,
      static_cast<GSubprocessFlags> (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
          G_SUBPROCESS_FLAGS_STDERR_SILENCE), &error);
  if (launcher == nullptr) {
    result.error = error;
    stop_process (sim, 2000);
    g_object_unref (sim);
    return result;
  }
  const pid_t launcher_pid = process_pid (launcher);
  const pid_t sim_pid = process_pid (sim);
  auto cleanup = [&] () {
    stop_process (launcher, 5000);
    stop_process (sim, 5000);
    g_object_unref (launcher);
    g_object_unref (sim);
  };
  if (!iterate_until (10000, [http_port] () { return !http_get (http_port, "/health").empty (); })) {
    result.error = "the launcher did not come up (" + paths.launcher + " --config " +
        config_path + ")";
    cleanup ();
    return result;
  }
  iterate_for (1000);
  const ProcessSample baseline = sample_process (launcher_pid);
  const std::string metrics_before = http_get (http_port, "/metrics");

  /* Dial at the requested rate. */
  RtpEngine engine;
  CallDriver driver (settings, turns, &engine);
  if (!engine.start (&error) || !driver.start_sip (sip_port, &error)) {
    result.error = error;
    cleanup ();
    return result;
  }
  const gint64 interval_us = static_cast<gint64> (1e6 / settings.rate);
  gint64 next_dial = g_get_monotonic_time ();
  int dialled = 0;
  const gint64 setup_deadline = g_get_monotonic_time () +
      (static_cast<gint64> (settings.calls / settings.rate) + 40) * G_USEC_PER_SEC;
  while (driver.settled () < settings.calls && g_get_monotonic_time () < setup_deadline) {
    if (dialled < settings.calls && g_get_monotonic_time () >= next_dial) {
      driver.dial_next ();
      dialled++;
      next_dial += interval_us;
    }
    g_main_context_iteration (nullptr, FALSE);
    g_usleep (500);
  }
  for (auto &c : driver.calls ()) {
    if (c->answer_ns != 0 && !c->failed)
      result.calls_answered++;
    else
      result.calls_failed++;
  }

  /* Steady state. */
  iterate_for (1000);
  const ProcessSample steady_start = sample_process (launcher_pid);
  const ProcessSample sim_start = sample_process (sim_pid);
  struct timespec self_start;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &self_start);
  const gint64 window_start = g_get_monotonic_time ();
  iterate_for (static_cast<gint64> (settings.duration_s) * 1000);
  const ProcessSample steady_end = sample_process (launcher_pid);
  const ProcessSample sim_end = sample_process (sim_pid);
  struct timespec self_end;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &self_end);
  result.steady_s = static_cast<double> (g_get_monotonic_time () - window_start) / 1e6;

  const int up = std::max (result.calls_answered, 1);
  if (steady_start.ok && steady_end.ok && result.steady_s > 0) {
    result.cpu_percent_total = 100.0 * (steady_end.cpu_s - steady_start.cpu_s) / result.steady_s;
    result.cpu_percent_per_call = result.cpu_percent_total / up;
    result.rss_kib_baseline = static_cast<double> (baseline.rss_kib);
    result.rss_kib_per_call = static_cast<double> (steady_end.rss_kib - baseline.rss_kib) / up;
    result.threads_baseline = static_cast<double> (baseline.threads);
    result.threads_per_call = static_cast<double> (steady_end.threads - baseline.threads) / up;
  }
  if (sim_start.ok && sim_end.ok)
    result.sim_cpu_percent = 100.0 * (sim_end.cpu_s - sim_start.cpu_s) / result.steady_s;
  const double self_cpu = static_cast<double> (self_end.tv_sec - self_start.tv_sec) +
      static_cast<double> (self_end.tv_nsec - self_start.tv_nsec) / 1e9;
  result.bench_cpu_percent = 100.0 * self_cpu / result.steady_s;

  /* Stop talking, let the echo drain, then hang up. */
  engine.stop_sending_at (monotonic_ns ());
  iterate_for (600);
  engine.stop ();
  driver.hangup_all ();
  iterate_until (10000, [&driver] () {
    return driver.ended () >= static_cast<int> (driver.calls ().size ());
  });
  /* The launcher counts RTP at graph teardown, which follows our BYE's 200
   * OK; under load that can take a while: wait until no call is active. */
  iterate_until (15000, [http_port] () {
    const std::string text = http_get (http_port, "/metrics");
    return !text.empty () && text.find ("\nvoxbridge_calls_active 0\n") != std::string::npos;
  });
  const std::string metrics_after = http_get (http_port, "/metrics");
  driver.shutdown ();
  cleanup ();

  auto delta = [&] (const std::string &name, const std::string &label) {
    return metric_sum (metrics_after, name, label) - metric_sum (metrics_before, name, label);
  };
  result.launcher_rtp_in = delta ("voxbridge_rtp_packets_total", "direction=\"in\"");
  result.launcher_rtp_out = delta ("voxbridge_rtp_packets_total", "direction=\"out\"");
  result.launcher_late = delta ("voxbridge_rtp_packets_dropped_total", "reason=\"late\"");
  result.launcher_lost = delta ("voxbridge_rtp_packets_lost_total", "");
  result.launcher_duplicates = delta ("voxbridge_rtp_packets_duplicate_total", "");
  result.launcher_dropped_other = delta ("voxbridge_rtp_packets_dropped_total", "") -
      result.launcher_late;
  result.graph_dropped_ms = delta ("voxbridge_audio_discarded_seconds_total", "") * 1000.0;
  auto mean_ms = [&] (const std::string &histogram) {
    const double count = delta (histogram + "_count", "");
    return count > 0 ? 1000.0 * delta (histogram + "_sum", "") / count : 0.0;
  };
  result.launcher_to_ai_mean_ms = mean_ms ("voxbridge_media_latency_to_ai_seconds");
  result.launcher_to_caller_mean_ms = mean_ms ("voxbridge_media_latency_to_caller_seconds");

  /* Correlate with the server's timing log. */
  std::map<std::string, SimSessionLog> sessions;
  std::ifstream timing (timing_path);
  if (!timing || !parse_timing_log (timing, &sessions, &error)) {
    result.notes += "no usable sim timing log (" + timing_path + "): " + error + ". ";
  }
  std::map<std::string, const SimSessionLog *> by_name;
  for (const auto &[id, session] : sessions)
    by_name[session.instructions] = &session;

  /* The AI connect as the launcher timed it: opening the connection to
   * session.updated (call.answered's ai_connect_ms). */
  std::map<std::string, double> launcher_connect_ms;
  {
    std::ifstream events (events_path);
    size_t skipped = 0;
    if (events)
      launcher_connect_ms = ai_connect_ms_by_caller (events, &skipped);
    if (skipped > 0)
      result.notes += std::to_string (skipped) + " unreadable line(s) in the launcher's events log. ";
  }

  std::vector<double> to_ai, to_caller, to_caller_beyond_playout, round_trip, setup_answer,
      setup_local, setup_local_launcher_timed, setup_audio, cutoffs;
  bool all_verified = true;
  for (auto &c : driver.calls ()) {
    if (c->answer_ns != 0) {
      const double setup_ms = static_cast<double> (c->answer_ns - c->dial_ns) / 1e6;
      setup_answer.push_back (setup_ms);
      auto connect = launcher_connect_ms.find (c->name);
      if (connect != launcher_connect_ms.end ())
        setup_local_launcher_timed.push_back (setup_ms - connect->second);
    }
    if (!c->stream)
      continue;
    RtpStream &s = *c->stream;
    result.caller_sent += s.trace.sent_ns.size ();
    result.caller_received += s.stats.packets;
    result.caller_lost += s.stats.lost;
    result.caller_late += s.stats.late;
    result.caller_duplicates += s.stats.duplicates;
    auto it = by_name.find (c->name);
    if (it == by_name.end ())
      continue;
    /* The AI connect, as the server saw it: WebSocket open to session.updated
     * sent. The TCP connect and the upgrade before, and the delivery of
     * session.updated after, stay in the launcher's part. */
    const SimSessionLog &sim = *it->second;
    if (c->answer_ns != 0 && sim.open_ns != 0 && sim.updated_ns >= sim.open_ns)
      setup_local.push_back (static_cast<double> ((c->answer_ns - c->dial_ns) -
              (sim.updated_ns - sim.open_ns)) / 1e6);
    if (barge_in_mode) {
      BargeInCutoffs b = barge_in_cutoffs (s.trace, *it->second);
      cutoffs.insert (cutoffs.end (), b.cutoff_ms.begin (), b.cutoff_ms.end ());
      result.barge_in_idle += b.idle_speech_starts;
    }
    if (!g711) {
      s.trace.sent_linear = ulaw_to_linear_samples (s.trace.sent);
      s.trace.received_linear = ulaw_to_linear_samples (s.trace.received);
    }
    Correlation corr = correlate (s.trace, *it->second, g711 ? 1 : 6);
    s.trace = CallerTrace ();  /* free the audio as we go */
    if (corr.to_ai_ms.empty () && corr.to_caller_ms.empty ())
      continue;
    result.calls_correlated++;
    all_verified = all_verified && corr.verified;
    to_ai.insert (to_ai.end (), corr.to_ai_ms.begin (), corr.to_ai_ms.end ());
    to_caller.insert (to_caller.end (), corr.to_caller_ms.begin (), corr.to_caller_ms.end ());
    to_caller_beyond_playout.insert (to_caller_beyond_playout.end (),
        corr.to_caller_beyond_playout_ms.begin (), corr.to_caller_beyond_playout_ms.end ());
    round_trip.insert (round_trip.end (), corr.round_trip_ms.begin (), corr.round_trip_ms.end ());
    if (corr.first_echo_ns != 0)
      setup_audio.push_back (static_cast<double> (corr.first_echo_ns - c->dial_ns) / 1e6);
  }
  result.latency_verified = result.calls_correlated > 0 && all_verified;
  result.to_ai = summarize (to_ai);
  result.to_caller = summarize (to_caller);
  result.to_caller_beyond_playout = summarize (to_caller_beyond_playout);
  result.round_trip = summarize (round_trip);
  result.setup_answer = summarize (setup_answer);
  result.setup_without_ai = summarize (setup_local);
  result.setup_without_ai_launcher_timed = summarize (setup_local_launcher_timed);
  result.setup_first_audio = summarize (setup_audio);
  result.barge_in_cutoff = summarize (cutoffs);
  if (result.calls_correlated < result.calls_answered)
    result.notes += std::to_string (result.calls_answered - result.calls_correlated) +
        " answered call(s) not found in the sim's timing log. ";
  return result;
}

}  // namespace voxbridge::bench
