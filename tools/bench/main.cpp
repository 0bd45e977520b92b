/* voxbridge-bench: the cost and delay of bridged calls, measured.
 *
 * Starts the off-line Realtime server (echo) and a launcher, places N
 * concurrent SIP calls that stream speech at real-time pace, and prints one
 * table (and JSON) of launcher CPU and RSS per call, per-direction latency,
 * round trip, setup time and RTP loss. See BENCHMARKS.md.
 *
 *   voxbridge-bench --mode g711 --calls 100 --rate 20 --duration 20 --json out.json
 *   voxbridge-bench --mode g711,pcm24k --calls 50,100,200 --write-benchmarks-md BENCHMARKS.md
 *
 * Exit status: 0 every run completed with every call answered, 1 a run
 * failed or calls were refused, 2 usage. */

#include "bench_report.h"
#include "bench_run.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

using namespace voxbridge::bench;

namespace {

const char *kDefaultSpeech =
    "Thank you for calling. This is a benchmark of the voxbridge telephone bridge. "
    "Every caller speaks these sentences at the pace of a real call, and the model "
    "sends each word straight back. We measure how long the audio takes in each "
    "direction, how much processor time every call costs, and whether any packet is "
    "lost on the way. The quick brown fox jumps over the lazy dog, twice, and then "
    "counts from one to ten: one, two, three, four, five, six, seven, eight, nine, ten.";

std::vector<std::string>
split (const std::string &text)
{
  std::vector<std::string> parts;
  gchar **items = g_strsplit (text.c_str (), ",", -1);
  for (gchar **i = items; *i; i++)
    if (**i)
      parts.emplace_back (g_strstrip (*i));
  g_strfreev (items);
  return parts;
}

/* Any audio file -> 8 kHz mono PCMU bytes, with GStreamer. */
bool
load_speech (const std::string &wav, std::vector<uint8_t> *ulaw, std::string *error)
{
  gchar *escaped = g_strescape (wav.c_str (), nullptr);
  std::string description = std::string ("filesrc location=\"") + escaped +
      "\" ! decodebin ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=8000,channels=1 ! mulawenc ! appsink name=out sync=false";
  g_free (escaped);
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (description.c_str (), &err);
  if (pipeline == nullptr) {
    *error = err->message;
    g_error_free (err);
    return false;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))) {
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    GstMapInfo map;
    if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      ulaw->insert (ulaw->end (), map.data, map.data + map.size);
      gst_buffer_unmap (buffer, &map);
    }
    gst_sample_unref (sample);
  }
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg != nullptr) {
    GError *gerr = nullptr;
    gst_message_parse_error (msg, &gerr, nullptr);
    *error = "cannot decode " + wav + ": " + gerr->message;
    g_error_free (gerr);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  if (error->empty () && ulaw->size () < 8000)
    *error = wav + " holds less than a second of audio";
  return error->empty ();
}

std::string
exe_dir ()
{
  gchar *exe = g_file_read_link ("/proc/self/exe", nullptr);
  gchar *dir = g_path_get_dirname (exe ? exe : ".");
  std::string result = dir;
  g_free (dir);
  g_free (exe);
  return result;
}

int
usage (GOptionContext *context, const std::string &message)
{
  g_printerr ("voxbridge-bench: %s (see --help)\n", message.c_str ());
  g_option_context_free (context);
  return 2;
}

}  // namespace

int
main (int argc, char **argv)
{
  gchar *modes = g_strdup ("g711");
  gchar *calls = g_strdup ("50");
  gdouble rate = 20;
  gint duration = 20;
  gint jitter_ms = 60;
  gboolean no_barge_in = FALSE;
  gboolean find_max = FALSE;
  gchar *json_path = nullptr, *md_path = nullptr, *wav = nullptr, *sim = nullptr,
        *launcher = nullptr, *pipelines = nullptr, *work_dir = nullptr;
  GOptionEntry entries[] = {
    {"mode", 'm', 0, G_OPTION_ARG_STRING, &modes,
      "g711 (passthrough), pcm24k (resampling), bargein (callers talk over the model's "
      "answers: barge-in cut-off), comma-separated (default g711)", "MODES"},
    {"calls", 'n', 0, G_OPTION_ARG_STRING, &calls,
      "Concurrent calls, comma-separated for several runs (default 50)", "N[,N...]"},
    {"rate", 'r', 0, G_OPTION_ARG_DOUBLE, &rate, "Calls placed per second (default 20)", "R"},
    {"duration", 'd', 0, G_OPTION_ARG_INT, &duration,
      "Seconds of steady state with every call up (default 20)", "S"},
    {"jitter-ms", 0, 0, G_OPTION_ARG_INT, &jitter_ms,
      "siprtpsrc jitter buffer latency in the route (default 60, the element's default)", "MS"},
    {"no-barge-in", 0, 0, G_OPTION_ARG_NONE, &no_barge_in,
      "Route barge-in off: the echo is never flushed by the sim's speech events", nullptr},
    {"find-max", 0, 0, G_OPTION_ARG_NONE, &find_max,
      "Also search the largest number of calls the launcher sustains (no lost frames, "
      "every call answered, caller audio at the model within 100 ms p99), per mode, "
      "starting from the largest --calls", nullptr},
    {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON", "FILE"},
    {"write-benchmarks-md", 0, 0, G_OPTION_ARG_FILENAME, &md_path,
      "Write BENCHMARKS.md (command, machine, table)", "FILE"},
    {"wav", 0, 0, G_OPTION_ARG_FILENAME, &wav,
      "Speech the callers stream, looped (default: espeak-ng reading a paragraph)", "FILE"},
    {"sim", 0, 0, G_OPTION_ARG_FILENAME, &sim, "voxbridge-realtime-sim binary", "PATH"},
    {"launcher", 0, 0, G_OPTION_ARG_FILENAME, &launcher, "voxbridge binary", "PATH"},
    {"pipelines", 0, 0, G_OPTION_ARG_FILENAME, &pipelines,
      "Directory of the shipped pipelines", "DIR"},
    {"work-dir", 0, 0, G_OPTION_ARG_FILENAME, &work_dir,
      "Keep configs and logs here (default: a temporary directory, removed)", "DIR"},
    {nullptr}
  };
  GOptionContext *context = g_option_context_new ("- load generator and benchmark of voxbridge");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_add_group (context, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &err)) {
    std::string message = err->message;
    g_error_free (err);
    return usage (context, message);
  }
  /* sipd narrates every call; a benchmark of hundreds of calls keeps quiet. */
  g_log_set_handler ("voxbridge-sipd",
      static_cast<GLogLevelFlags> (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
      [] (const gchar *, GLogLevelFlags, const gchar *, gpointer) {}, nullptr);
  std::vector<RunSettings> plan;
  for (const std::string &mode : split (modes)) {
    if (mode != "g711" && mode != "pcm24k" && mode != "bargein")
      return usage (context, "--mode takes g711, pcm24k and/or bargein, not '" + mode + "'");
    for (const std::string &n : split (calls)) {
      RunSettings s;
      s.mode = mode;
      gchar *end = nullptr;
      s.calls = static_cast<int> (g_ascii_strtoll (n.c_str (), &end, 10));
      if (end == n.c_str () || *end != '\0' || s.calls < 1 || s.calls > 2000)
        return usage (context, "--calls takes numbers 1..2000, not '" + n + "'");
      s.rate = rate;
      s.duration_s = duration;
      s.jitter_ms = jitter_ms;
      s.barge_in = !no_barge_in;
      plan.push_back (s);
    }
  }
  if (plan.empty ())
    return usage (context, "nothing to run");
  if (rate <= 0 || rate > 1000)
    return usage (context, "--rate must be in (0, 1000]");
  if (duration < 1 || duration > 3600)
    return usage (context, "--duration must be 1..3600 s");
  if (jitter_ms < 0 || jitter_ms > 1000)
    return usage (context, "--jitter-ms must be 0..1000");
  g_option_context_free (context);

  std::string command = "voxbridge-bench --mode " + std::string (modes) + " --calls " + calls +
      " --rate " + std::to_string (static_cast<int> (rate)) + " --duration " +
      std::to_string (duration);
  if (jitter_ms != 60)
    command += " --jitter-ms " + std::to_string (jitter_ms);
  if (no_barge_in)
    command += " --no-barge-in";
  if (find_max)
    command += " --find-max";

  /* A build-tree binary finds its neighbours: <builddir>/tools/bench. */
  const std::string build_dir = exe_dir () + "/../..";
  Paths paths;
  paths.sim = sim ? sim : build_dir + "/tools/realtime-sim/voxbridge-realtime-sim";
  paths.launcher = launcher ? launcher : build_dir + "/launcher/voxbridge";
  paths.pipelines_dir = pipelines ? pipelines : VOXBRIDGE_SOURCE_DIR "/pipelines";
  if (g_file_test ((build_dir + "/plugins").c_str (), G_FILE_TEST_IS_DIR)) {
    const char *existing = g_getenv ("GST_PLUGIN_PATH_1_0");
    paths.plugin_dir = build_dir + "/plugins" +
        (existing && *existing ? std::string (":") + existing : std::string ());
  }
  for (const std::string &binary : {paths.sim, paths.launcher}) {
    if (!g_file_test (binary.c_str (), G_FILE_TEST_IS_EXECUTABLE)) {
      g_printerr ("voxbridge-bench: %s is missing (build it, or pass --sim/--launcher)\n",
          binary.c_str ());
      return 1;
    }
  }
  bool remove_work_dir = false;
  if (work_dir != nullptr) {
    g_mkdir_with_parents (work_dir, 0755);
    paths.work_dir = work_dir;
  } else {
    gchar *tmp = g_dir_make_tmp ("voxbridge-bench-XXXXXX", nullptr);
    paths.work_dir = tmp ? tmp : "/tmp";
    remove_work_dir = tmp != nullptr;
    g_free (tmp);
  }

  std::string speech_path = wav ? wav : paths.work_dir + "/speech.wav";
  if (wav == nullptr) {
    gchar *out = nullptr;
    gint status = 1;
    const gchar *espeak[] = {"espeak-ng", "-w", speech_path.c_str (), kDefaultSpeech, nullptr};
    if (!g_spawn_sync (nullptr, const_cast<gchar **> (espeak), nullptr, G_SPAWN_SEARCH_PATH,
            nullptr, nullptr, &out, nullptr, &status, nullptr) || status != 0) {
      g_printerr ("voxbridge-bench: espeak-ng could not make the speech file "
          "(install espeak-ng or pass --wav)\n");
      g_free (out);
      return 1;
    }
    g_free (out);
  }
  std::vector<uint8_t> speech;
  std::string error;
  if (!load_speech (speech_path, &speech, &error)) {
    g_printerr ("voxbridge-bench: %s\n", error.c_str ());
    return 1;
  }
  /* Whole packets, so the loop point falls on a packet boundary. */
  speech.resize (speech.size () - speech.size () % 160);
  g_printerr ("voxbridge-bench: speech loop %.1f s; work dir %s\n",
      static_cast<double> (speech.size ()) / 8000.0, paths.work_dir.c_str ());

  std::vector<RunResult> results;
  bool ok = true;
  for (const RunSettings &s : plan) {
    g_printerr ("voxbridge-bench: %s, %d calls at %.0f/s, %d s steady...\n", s.mode.c_str (),
        s.calls, s.rate, s.duration_s);
    RunResult r = run_benchmark (s, paths, speech);
    if (!r.error.empty ())
      g_printerr ("voxbridge-bench: %s x%d: %s\n", s.mode.c_str (), s.calls, r.error.c_str ());
    ok = ok && r.error.empty () && r.calls_failed == 0;
    results.push_back (r);
  }

  /* --find-max: grow from the largest sustained run, then bisect. */
  std::vector<MaxCalls> max_calls;
  for (const std::string &mode : find_max ? split (modes) : std::vector<std::string> ()) {
    if (mode == "bargein")
      continue;   /* the search is for the echo modes' sustained load */
    int ok_calls = 0, bad_calls = 0;
    for (const RunResult &r : results) {
      if (r.settings.mode != mode)
        continue;
      std::string why;
      if (run_sustained (r, &why))
        ok_calls = std::max (ok_calls, r.settings.calls);
      else if (bad_calls == 0 || r.settings.calls < bad_calls)
        bad_calls = r.settings.calls;
    }
    for (int trial = 0; trial < 8; trial++) {
      int n = bad_calls == 0 ? std::max (10, ok_calls * 2) : (ok_calls + bad_calls) / 2;
      if (bad_calls != 0 && bad_calls - ok_calls <= std::max (5, ok_calls / 10))
        break;
      RunSettings s = plan.front ();
      s.mode = mode;
      s.calls = n;
      g_printerr ("voxbridge-bench: find-max %s: trying %d calls...\n", mode.c_str (), n);
      RunResult r = run_benchmark (s, paths, speech);
      std::string why;
      const bool sustained = run_sustained (r, &why);
      g_printerr ("voxbridge-bench: find-max %s: %d calls %s%s\n", mode.c_str (), n,
          sustained ? "sustained" : "not sustained: ", why.c_str ());
      (sustained ? ok_calls : bad_calls) = n;
      if (bad_calls == 0 && n >= 2000)
        break;
    }
    max_calls.push_back ({mode, ok_calls, bad_calls});
  }

  const MachineInfo machine = describe_machine ();
  std::printf ("%s", format_table (results).c_str ());
  for (const MaxCalls &m : max_calls)
    std::printf ("largest sustained (%s): %d calls%s\n", m.mode.c_str (), m.sustained,
        m.failed ? (" (" + std::to_string (m.failed) + " was not)").c_str () : "");
  std::fflush (stdout);
  if (json_path != nullptr && !g_file_set_contents (json_path,
          format_json (machine, command, results, max_calls).c_str (), -1, &err)) {
    g_printerr ("voxbridge-bench: %s\n", err->message);
    g_clear_error (&err);
    ok = false;
  }
  if (md_path != nullptr) {
    time_t now = time (nullptr);
    char date[32];
    strftime (date, sizeof date, "%Y-%m-%d", gmtime (&now));
    if (!g_file_set_contents (md_path,
            format_benchmarks_md (machine, command, results, max_calls, date).c_str (), -1,
            &err)) {
      g_printerr ("voxbridge-bench: %s\n", err->message);
      g_clear_error (&err);
      ok = false;
    }
  }
  if (remove_work_dir) {
    GDir *dir = g_dir_open (paths.work_dir.c_str (), 0, nullptr);
    while (const gchar *name = dir ? g_dir_read_name (dir) : nullptr)
      g_remove ((paths.work_dir + "/" + name).c_str ());
    if (dir)
      g_dir_close (dir);
    g_rmdir (paths.work_dir.c_str ());
  }
  return ok ? 0 : 1;
}
