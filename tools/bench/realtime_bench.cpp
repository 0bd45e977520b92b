/* voxbridge-realtime-bench: what one Realtime session costs.
 *
 *  1. realtimesink per-buffer cost: 20 ms buffers pushed straight into the
 *     sink's pad (render = base64 + JSON + hand-off to the I/O thread),
 *     timed per push: mean, p50, p99, max.
 *  2. N concurrent sessions (sink + src pairs) fed in real time for a few
 *     seconds against the off-line server in echo mode: process CPU and RSS
 *     per session, thread count.
 *
 * Usage: voxbridge-realtime-bench [--sessions N] [--seconds S] [--format pcmu|pcm]
 *        [--sim PATH]   (default: the voxbridge-realtime-sim next to this build) */
#include <gst/app/gstappsrc.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int sessions = 100;
  int seconds = 10;
  std::string format = "pcmu";
  std::string sim;
};

double
now_s ()
{
  return std::chrono::duration<double> (std::chrono::steady_clock::now ().time_since_epoch ()).count ();
}

double
cpu_s ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Resident set size and thread count from /proc/self/status. */
void
proc_status (long *rss_kib, long *threads)
{
  std::ifstream f ("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:")
      f >> *rss_kib;
    else if (key == "Threads:")
      f >> *threads;
    std::getline (f, key);
  }
}

struct Sim {
  GSubprocess *proc = nullptr;
  std::string url;
};

bool
start_sim (const std::string & path, Sim * sim)
{
  GError *err = nullptr;
  sim->proc = g_subprocess_new ((GSubprocessFlags) (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE), &err, path.c_str (), "--port", "0",
      "--behaviour", "echo", NULL);
  if (!sim->proc) {
    fprintf (stderr, "cannot start %s: %s\n", path.c_str (), err->message);
    g_error_free (err);
    return false;
  }
  GDataInputStream *in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim->proc));
  gchar *line = g_data_input_stream_read_line (in, nullptr, nullptr, nullptr);
  g_object_unref (in);
  const char *at = line ? strstr (line, "ws://") : nullptr;
  if (!at) {
    fprintf (stderr, "the server did not start\n");
    g_free (line);
    return false;
  }
  sim->url = std::string (at) + "/v1/realtime?model=gpt-realtime";
  g_free (line);
  return true;
}

struct Leg {
  GstElement *pipeline = nullptr;
  GstElement *appsrc = nullptr;
};

Leg
make_leg (int i, const Options & o, const std::string & url)
{
  std::string caps = o.format == "pcm"
      ? "audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved"
      : "audio/x-mulaw,rate=8000,channels=1";
  std::string desc = "appsrc name=in is-live=true format=time caps=" + caps
      + " ! realtimesink sync=false turn-detection=none session=bench" + std::to_string (i)
      + " url=\"" + url + "\" realtimesrc session=bench" + std::to_string (i) + " ! " + caps
      + " ! fakesink sync=false";
  Leg leg;
  GError *err = nullptr;
  leg.pipeline = gst_parse_launch (desc.c_str (), &err);
  if (!leg.pipeline) {
    fprintf (stderr, "pipeline: %s\n", err->message);
    exit (1);
  }
  leg.appsrc = gst_bin_get_by_name (GST_BIN (leg.pipeline), "in");
  return leg;
}

GstBuffer *
frame (gsize size, GstClockTime pts, guint8 value)
{
  GstBuffer *buf = gst_buffer_new_allocate (nullptr, size, nullptr);
  gst_buffer_memset (buf, 0, value, size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
  return buf;
}

void
bench_render (const Options & o, const std::string & url)
{
  GstElement *sink = gst_element_factory_make ("realtimesink", nullptr);
  g_object_set (sink, "url", url.c_str (), "sync", FALSE, "session", "render-bench",
      "turn-detection", 2, NULL);
  GstPad *src = gst_pad_new ("src", GST_PAD_SRC);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (src, sinkpad);
  gst_pad_set_active (src, TRUE);
  gst_element_set_state (sink, GST_STATE_PLAYING);
  gsize size = o.format == "pcm" ? 960 : 160;
  gst_pad_push_event (src, gst_event_new_stream_start ("bench"));
  gst_pad_push_event (src, gst_event_new_caps (gst_caps_from_string (o.format == "pcm"
              ? "audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved"
              : "audio/x-mulaw,rate=8000,channels=1")));
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_pad_push_event (src, gst_event_new_segment (&seg));

  const int n = 5000;
  std::vector<double> ns (n);
  for (int i = 0; i < n; i++) {
    GstBuffer *buf = frame (size, i * 20 * GST_MSECOND, (guint8) i);
    double t0 = now_s ();
    gst_pad_push (src, buf);
    ns[i] = (now_s () - t0) * 1e9;
  }
  std::sort (ns.begin (), ns.end ());
  double sum = 0;
  for (double v : ns)
    sum += v;
  printf ("realtimesink render (%s, %zu-byte 20 ms buffers, %d pushes):\n", o.format.c_str (), size, n);
  printf ("  mean %.1f us  p50 %.1f us  p99 %.1f us  max %.1f us\n", sum / n / 1e3,
      ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3, ns[n - 1] / 1e3);
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_object_unref (sinkpad);
  gst_object_unref (src);
  gst_object_unref (sink);
}

void
bench_sessions (const Options & o, const std::string & url)
{
  long rss0 = 0, threads0 = 0;
  proc_status (&rss0, &threads0);
  std::vector<Leg> legs;
  for (int i = 0; i < o.sessions; i++) {
    legs.push_back (make_leg (i, o, url));
    gst_element_set_state (legs.back ().pipeline, GST_STATE_PLAYING);
  }
  gsize size = o.format == "pcm" ? 960 : 160;
  /* Feed every leg one 20 ms frame per 20 ms, like N callers. */
  double start = now_s (), cpu_start = 0;
  long rss_steady = 0, threads = 0;
  int frames = o.seconds * 50;
  for (int f = 0; f < frames; f++) {
    for (auto & leg : legs) {
      GstFlowReturn ret;
      g_signal_emit_by_name (leg.appsrc, "push-buffer", frame (size, f * 20 * GST_MSECOND, (guint8) f), &ret);
    }
    if (f == 50) {   /* steady state from the second second on */
      cpu_start = cpu_s ();
      start = now_s ();
    }
    double next = start + (f - (f >= 50 ? 50 : 0) + 1) * 0.020;
    if (f < 50)
      next = now_s () + 0.020;
    double wait = next - now_s ();
    if (wait > 0)
      std::this_thread::sleep_for (std::chrono::duration<double> (wait));
  }
  double wall = now_s () - start, cpu = cpu_s () - cpu_start;
  proc_status (&rss_steady, &threads);
  printf ("%d concurrent sessions (%s, echo server, fed in real time, %d s steady state):\n",
      o.sessions, o.format.c_str (), o.seconds - 1);
  printf ("  CPU %.3f%% of one core per session (%.1f%% in all)\n", 100 * cpu / wall / o.sessions,
      100 * cpu / wall);
  printf ("  RSS %.1f KiB per session (%.1f MiB in all)\n", (double) (rss_steady - rss0) / o.sessions,
      rss_steady / 1024.0);
  printf ("  threads %ld in all (%ld before the sessions)\n", threads, threads0);
  for (auto & leg : legs) {
    gst_element_set_state (leg.pipeline, GST_STATE_NULL);
    gst_object_unref (leg.appsrc);
    gst_object_unref (leg.pipeline);
  }
}

}  // namespace

int
main (int argc, char **argv)
{
  Options o;
  gchar *format = nullptr, *sim_path = nullptr;
  GOptionEntry entries[] = {
    {"sessions", 0, 0, G_OPTION_ARG_INT, &o.sessions, "Concurrent sessions (default 100)", "N"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &o.seconds, "Seconds of audio per session (default 10)", "S"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &format, "pcmu (default) or pcm (24 kHz)", "F"},
    {"sim", 0, 0, G_OPTION_ARG_FILENAME, &sim_path, "Path of voxbridge-realtime-sim", "PATH"},
    {nullptr}
  };
  GOptionContext *ctx = g_option_context_new ("- measure a Realtime session's cost");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (format)
    o.format = format;
  if (o.format != "pcmu" && o.format != "pcm") {
    fprintf (stderr, "--format must be pcmu or pcm\n");
    return 2;
  }
  o.seconds = std::max (o.seconds, 2);
  gchar *dir = g_path_get_dirname (argv[0]);
  o.sim = sim_path ? sim_path : std::string (dir) + "/../realtime-sim/voxbridge-realtime-sim";
  g_free (dir);

  Sim sim;
  if (!start_sim (o.sim, &sim))
    return 1;
  printf ("voxbridge-realtime-bench: server %s\n", sim.url.c_str ());
  bench_render (o, sim.url);
  bench_sessions (o, sim.url);
  g_subprocess_send_signal (sim.proc, SIGTERM);
  g_subprocess_wait (sim.proc, nullptr, nullptr);
  g_object_unref (sim.proc);
  return 0;
}
