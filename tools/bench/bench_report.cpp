/* Table, JSON and BENCHMARKS.md of the benchmark; see bench_report.h. */

#include "bench_report.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

namespace voxbridge::bench {

namespace {

std::string
fmt (const char *format, double value)
{
  char buffer[64];
  std::snprintf (buffer, sizeof buffer, format, value);
  return buffer;
}

std::string
latency (const Summary &s)
{
  if (s.count == 0)
    return "n/a";
  return fmt ("%.1f", s.p50) + " / " + fmt ("%.1f", s.p99) + " / " + fmt ("%.1f", s.max);
}

struct Row {
  std::string label;
  std::string target;
  std::function<std::string (const RunResult &)> value;
};

const std::vector<Row> &
rows ()
{
  static const std::vector<Row> table = {
    {"sustained (no lost frames, in time)", "yes", [] (const RunResult &r) {
       std::string why;
       return run_sustained (r, &why) ? std::string ("yes") : "no: " + why; }},
    {"calls answered / failed", "all / 0", [] (const RunResult &r) {
       return std::to_string (r.calls_answered) + " / " + std::to_string (r.calls_failed); }},
    {"launcher CPU, % of one core per call", "<= 0.2 (G.711), <= 0.4 (PCM24k)",
     [] (const RunResult &r) { return fmt ("%.3f", r.cpu_percent_per_call); }},
    {"launcher CPU, % of one core in all", "", [] (const RunResult &r) {
       return fmt ("%.1f", r.cpu_percent_total); }},
    {"launcher RSS per call, KiB", "<= 1024", [] (const RunResult &r) {
       return fmt ("%.0f", r.rss_kib_per_call); }},
    {"launcher threads per call", "", [] (const RunResult &r) {
       return fmt ("%.2f", r.threads_per_call); }},
    {"caller -> AI, ms p50 / p99 / max", "p99 <= 2", [] (const RunResult &r) {
       return latency (r.to_ai); }},
    {"  jitter buffer latency (configured), ms", "", [] (const RunResult &r) {
       return std::to_string (r.settings.jitter_ms); }},
    {"AI -> caller beyond real-time playout, ms p50 / p99 / max", "p99 <= 2",
     [] (const RunResult &r) { return latency (r.to_caller_beyond_playout); }},
    {"  AI -> caller incl. waiting behind earlier audio, ms p50 / p99 / max", "",
     [] (const RunResult &r) { return latency (r.to_caller); }},
    {"  launcher's own view (/metrics), mean ms to AI / to caller", "", [] (const RunResult &r) {
       return fmt ("%.1f", r.launcher_to_ai_mean_ms) + " / " + fmt ("%.1f", r.launcher_to_caller_mean_ms); }},
    {"round trip heard by the caller, ms p50 / p99 / max", "", [] (const RunResult &r) {
       return latency (r.round_trip); }},
    {"setup INVITE -> 200 OK, ms p50 / p99 / max", "<= 20 + AI connect", [] (const RunResult &r) {
       return latency (r.setup_answer); }},
    {"  the same without the AI connect (server: open -> session.updated)", "<= 20",
     [] (const RunResult &r) { return latency (r.setup_without_ai); }},
    {"  the same without the AI connect as the launcher timed it (connect -> session.updated)", "",
     [] (const RunResult &r) { return latency (r.setup_without_ai_launcher_timed); }},
    {"setup INVITE -> first AI audio, ms p50 / p99 / max", "", [] (const RunResult &r) {
       return latency (r.setup_first_audio); }},
    {"barge-in cut-off, ms p50 / p99 / max (interruptions)", "<= 20", [] (const RunResult &r) {
       if (r.settings.mode != "bargein")
         return std::string ("- (echo: nobody interrupts)");
       return latency (r.barge_in_cutoff) + " (" + std::to_string (r.barge_in_cutoff.count) +
           ")"; }},
    {"RTP to launcher: lost / late / duplicate", "0 / 0 / 0", [] (const RunResult &r) {
       return fmt ("%.0f", r.launcher_lost) + " / " + fmt ("%.0f", r.launcher_late) + " / " +
           fmt ("%.0f", r.launcher_duplicates); }},
    {"RTP to callers: lost / late / duplicate", "0 / 0 / 0", [] (const RunResult &r) {
       return std::to_string (r.caller_lost) + " / " + std::to_string (r.caller_late) + " / " +
           std::to_string (r.caller_duplicates); }},
    {"RTP packets sent / received by callers", "", [] (const RunResult &r) {
       return std::to_string (r.caller_sent) + " / " + std::to_string (r.caller_received); }},
    {"model audio discarded in the graph, ms", "0", [] (const RunResult &r) {
       return fmt ("%.0f", r.graph_dropped_ms); }},
    {"calls correlated with the sim log", "all", [] (const RunResult &r) {
       return std::to_string (r.calls_correlated) + (r.latency_verified ? " (content-verified)" :
           " (placed by sample count / correlation)"); }},
    {"sim CPU / bench CPU, % of one core", "", [] (const RunResult &r) {
       return fmt ("%.0f", r.sim_cpu_percent) + " / " + fmt ("%.0f", r.bench_cpu_percent); }},
  };
  return table;
}

std::string
column_title (const RunResult &r)
{
  return r.settings.mode + " x" + std::to_string (r.settings.calls);
}

void
add_summary (JsonBuilder *b, const char *name, const Summary &s)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, static_cast<gint64> (s.count));
  json_builder_set_member_name (b, "p50");
  json_builder_add_double_value (b, s.p50);
  json_builder_set_member_name (b, "p99");
  json_builder_add_double_value (b, s.p99);
  json_builder_set_member_name (b, "max");
  json_builder_add_double_value (b, s.max);
  json_builder_set_member_name (b, "mean");
  json_builder_add_double_value (b, s.mean);
  json_builder_end_object (b);
}

void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
add_string (JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value.c_str ());
}

}  // namespace

MachineInfo
describe_machine ()
{
  MachineInfo m;
  std::ifstream cpuinfo ("/proc/cpuinfo");
  std::string line;
  while (std::getline (cpuinfo, line)) {
    if (line.rfind ("model name", 0) == 0 && m.cpu_model.empty ()) {
      size_t colon = line.find (':');
      m.cpu_model = colon == std::string::npos ? line : line.substr (colon + 2);
    }
  }
  m.cores = static_cast<int> (sysconf (_SC_NPROCESSORS_ONLN));
  struct utsname u;
  if (uname (&u) == 0)
    m.kernel = std::string (u.sysname) + " " + u.release;
  gchar *version = gst_version_string ();
  m.gstreamer = version;
  g_free (version);
  return m;
}

std::string
format_table (const std::vector<RunResult> &runs)
{
  size_t label_width = 0;
  for (const Row &row : rows ())
    label_width = std::max (label_width, row.label.size ());
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const RunResult &r : runs) {
    std::vector<std::string> column = {column_title (r)};
    for (const Row &row : rows ())
      column.push_back (r.error.empty () ? row.value (r) : "error");
    size_t width = 0;
    for (const auto &cell : column)
      width = std::max (width, cell.size ());
    widths.push_back (width);
    cells.push_back (std::move (column));
  }
  std::ostringstream out;
  auto line = [&] (const std::string &label, size_t index, const std::string &target) {
    out << label << std::string (label_width - label.size () + 2, ' ');
    for (size_t c = 0; c < cells.size (); c++)
      out << cells[c][index] << std::string (widths[c] - cells[c][index].size () + 2, ' ');
    out << target << "\n";
  };
  line ("", 0, "target");
  for (size_t i = 0; i < rows ().size (); i++)
    line (rows ()[i].label, i + 1, rows ()[i].target);
  for (const RunResult &r : runs) {
    if (!r.error.empty ())
      out << column_title (r) << ": error: " << r.error << "\n";
    if (!r.notes.empty ())
      out << column_title (r) << ": " << r.notes << "\n";
  }
  return out.str ();
}

std::string
format_json (const MachineInfo &machine, const std::string &command,
    const std::vector<RunResult> &runs, const std::vector<MaxCalls> &max_calls)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "command", command);
  json_builder_set_member_name (b, "machine");
  json_builder_begin_object (b);
  add_string (b, "cpu", machine.cpu_model);
  add_int (b, "cores", machine.cores);
  add_string (b, "kernel", machine.kernel);
  add_string (b, "gstreamer", machine.gstreamer);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "max_sustained_calls");
  json_builder_begin_object (b);
  for (const MaxCalls &m : max_calls) {
    json_builder_set_member_name (b, m.mode.c_str ());
    json_builder_begin_object (b);
    add_int (b, "sustained", m.sustained);
    add_int (b, "failed", m.failed);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (const RunResult &r : runs) {
    json_builder_begin_object (b);
    add_string (b, "mode", r.settings.mode);
    add_int (b, "calls", r.settings.calls);
    add_double (b, "rate", r.settings.rate);
    add_int (b, "duration_s", r.settings.duration_s);
    add_int (b, "jitter_buffer_ms", r.settings.jitter_ms);
    json_builder_set_member_name (b, "barge_in");
    json_builder_add_boolean_value (b, r.settings.barge_in);
    add_string (b, "error", r.error);
    add_int (b, "calls_answered", r.calls_answered);
    add_int (b, "calls_failed", r.calls_failed);
    add_int (b, "calls_correlated", r.calls_correlated);
    add_double (b, "steady_s", r.steady_s);
    add_double (b, "cpu_percent_per_call", r.cpu_percent_per_call);
    add_double (b, "cpu_percent_total", r.cpu_percent_total);
    add_double (b, "rss_kib_baseline", r.rss_kib_baseline);
    add_double (b, "rss_kib_per_call", r.rss_kib_per_call);
    add_double (b, "threads_baseline", r.threads_baseline);
    add_double (b, "threads_per_call", r.threads_per_call);
    add_double (b, "sim_cpu_percent", r.sim_cpu_percent);
    add_double (b, "bench_cpu_percent", r.bench_cpu_percent);
    add_summary (b, "latency_to_ai_ms", r.to_ai);
    add_summary (b, "latency_to_caller_ms", r.to_caller);
    add_summary (b, "latency_to_caller_beyond_playout_ms", r.to_caller_beyond_playout);
    add_summary (b, "round_trip_ms", r.round_trip);
    add_summary (b, "setup_answer_ms", r.setup_answer);
    add_summary (b, "setup_without_ai_connect_ms", r.setup_without_ai);
    add_summary (b, "setup_without_ai_connect_launcher_timed_ms", r.setup_without_ai_launcher_timed);
    add_summary (b, "setup_first_ai_audio_ms", r.setup_first_audio);
    std::string why;
    json_builder_set_member_name (b, "sustained");
    json_builder_add_boolean_value (b, run_sustained (r, &why));
    add_string (b, "not_sustained_because", why);
    json_builder_set_member_name (b, "latency_verified");
    json_builder_add_boolean_value (b, r.latency_verified);
    add_double (b, "launcher_rtp_in", r.launcher_rtp_in);
    add_double (b, "launcher_rtp_out", r.launcher_rtp_out);
    add_double (b, "launcher_rtp_lost", r.launcher_lost);
    add_double (b, "launcher_rtp_late", r.launcher_late);
    add_double (b, "launcher_rtp_duplicates", r.launcher_duplicates);
    add_double (b, "launcher_rtp_dropped_other", r.launcher_dropped_other);
    add_double (b, "graph_audio_discarded_ms", r.graph_dropped_ms);
    add_double (b, "launcher_latency_to_ai_mean_ms", r.launcher_to_ai_mean_ms);
    add_double (b, "launcher_latency_to_caller_mean_ms", r.launcher_to_caller_mean_ms);
    add_int (b, "caller_rtp_sent", static_cast<gint64> (r.caller_sent));
    add_int (b, "caller_rtp_received", static_cast<gint64> (r.caller_received));
    add_int (b, "caller_rtp_lost", static_cast<gint64> (r.caller_lost));
    add_int (b, "caller_rtp_late", static_cast<gint64> (r.caller_late));
    add_int (b, "caller_rtp_duplicates", static_cast<gint64> (r.caller_duplicates));
    if (r.settings.mode == "bargein") {
      add_summary (b, "barge_in_cutoff_ms", r.barge_in_cutoff);
      add_int (b, "speech_started_while_idle", static_cast<gint64> (r.barge_in_idle));
    }
    add_string (b, "notes", r.notes);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  JsonGenerator *gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  gchar *text = json_generator_to_data (gen, nullptr);
  std::string json = std::string (text) + "\n";
  g_free (text);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return json;
}

std::string
format_benchmarks_md (const MachineInfo &machine, const std::string &command,
    const std::vector<RunResult> &runs, const std::vector<MaxCalls> &max_calls,
    const std::string &date)
{
  std::ostringstream md;
  md << "# voxbridge benchmarks\n\n"
     << "Generated by `voxbridge-bench --write-benchmarks-md` on " << date
     << "; do not edit by hand — run the command again.\n\n"
     << "## Command\n\n    " << command << "\n\n"
     << "Or, from a fresh checkout: `./tools/bench.sh` (installs the packages, builds, "
     << "runs this).\n\n"
     << "## Machine\n\n"
     << "| | |\n|---|---|\n"
     << "| CPU | " << machine.cpu_model << " |\n"
     << "| cores | " << machine.cores << " |\n"
     << "| kernel | " << machine.kernel << " |\n"
     << "| GStreamer | " << machine.gstreamer << " |\n\n"
     << "## How it measures\n\n"
     << "One process places all calls (sipd as UAC, one RTP thread) against a launcher "
     << "(`voxbridge --config`, generated) whose route runs the shipped "
     << "`pipelines/connect-evt-g711.pipeline` (g711) or `connect-evt-pcm24k.pipeline` "
     << "(pcm24k), with the jitter buffer latency stated and the caller's name in the "
     << "instructions; the model is `voxbridge-realtime-sim --behaviour echo --timing-log`. "
     << "Every caller streams espeak-ng speech (looped) at real-time pace. CPU, RSS and "
     << "threads of the launcher come from /proc over the steady-state window (all calls up); "
     << "per call = (steady - idle launcher) / calls. Latencies use CLOCK_MONOTONIC at both "
     << "ends: caller → AI is an RTP packet sent → the `input_audio_buffer.append` that "
     << "completes it arriving at the sim; AI → caller is a delta sent by the sim → the RTP "
     << "packet completing it arriving at the caller; round trip is the caller's own audio "
     << "coming back. RTP plays at real time, so deltas the echo sends in a burst (after a "
     << "stall) must wait behind earlier audio, a queue that lasts the call as the echo never "
     << "pauses. AI → caller beyond real-time playout, the figure held to the target, leaves "
     << "that wait out: it counts from the earliest a perfect real-time sender could have sent "
     << "the packet: the first delta at its send time, each later one at the later of its send "
     << "time and its own 20 ms after the previous one's ideal time or, when that left sooner "
     << "(siprtpsink sends up to a quarter ptime early), its arrival. The launcher's lateness "
     << "never moves that schedule later, so a stall stays in for every packet it delays "
     << "(negative: it went out sooner). The "
     << "jitter buffer (siprtpsrc `latency`) holds a packet only while "
     << "an earlier one is missing, so on a clean network the caller -> AI figure does not "
     << "contain it. In g711 every chunk is matched by content; in pcm24k the input side is "
     << "placed by sample count and the output side by cross-correlation. Setup is INVITE → "
     << "200 OK (the launcher answers once its AI session is ready) and INVITE → first echoed "
     << "audio at the caller. The AI connect comes off the setup two ways: as the sim saw it "
     << "(the WebSocket open to session.updated sent, so the TCP connect and the upgrade, which "
     << "wait for the sim's busy loop, count as the launcher's) and as the launcher timed it "
     << "(call.answered's ai_connect_ms: opening the connection to session.updated received, "
     << "so the launcher's own delays in those steps count as the AI's). The sim and the benchmark run on the same 2 cores as the "
     << "launcher, and on loopback the kernel delivers what the launcher sends (RTP to the "
     << "callers, WebSocket frames to the sim) inside the launcher's own send calls: its CPU "
     << "includes the receivers' network stack (about 8 % of it at 200 G.711 calls, by perf), "
     << "which a network card takes off it in production. In pcm24k the AI → caller figures "
     << "contain the resampler's look-ahead (4 ms): the end of a delta leaves with the next "
     << "one, which the echo sends 20 ms later (a real model sends faster than real time). "
     << "In bargein mode (G.711) the sim answers every turn "
     << "(`--behaviour speak`, its audio sent at three times real time) and each caller "
     << "speaks 1.6 s phrases with 1.6 s pauses, so it talks over every answer about a "
     << "second in; the cut-off runs from the sim sending `speech_started` to the last "
     << "non-silent packet of the interrupted answer arriving at the caller (negative: it "
     << "had arrived before; a pause in the answer's own speech can make it earlier than "
     << "the flush).\n\n"
     << "## Results\n\n";
  md << "| figure |";
  for (const RunResult &r : runs)
    md << " " << column_title (r) << " |";
  md << " target |\n|---|";
  for (size_t i = 0; i < runs.size (); i++)
    md << "---|";
  md << "---|\n";
  for (const Row &row : rows ()) {
    md << "| " << row.label << " |";
    for (const RunResult &r : runs)
      md << " " << (r.error.empty () ? row.value (r) : "error") << " |";
    md << " " << row.target << " |\n";
  }
  for (const MaxCalls &m : max_calls)
    md << "\nLargest number of concurrent calls sustained (" << m.mode << "): **" << m.sustained
       << "**" << (m.failed ? " (" + std::to_string (m.failed) + " was not)" : std::string ())
       << " — sustained = every call answered, no RTP lost or late, no model audio discarded, "
       << "caller audio at the model within 100 ms at p99.\n";
  for (const RunResult &r : runs) {
    if (!r.error.empty ())
      md << "\n- " << column_title (r) << ": error: " << r.error;
    if (!r.notes.empty ())
      md << "\n- " << column_title (r) << ": " << r.notes;
  }
  md << "\n";
  return md.str ();
}

}  // namespace voxbridge::bench
