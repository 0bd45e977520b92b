/* voxbridge-realtime-sim: an off-line server speaking the OpenAI / Azure
 * OpenAI Realtime (GA) WebSocket protocol, for demos, tests and benchmarks.
 *
 *   voxbridge-realtime-sim --port 8765 --behaviour speak
 *   → ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime
 *     ws://127.0.0.1:8765/openai/v1/realtime?model=<deployment>
 */

#include <csignal>
#include <cstdio>

#include <glib-unix.h>

#include "sim_options.h"
#include "sim_server.h"
#include "timing_log.h"
#include "tts.h"

using namespace voxbridge::sim;

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (static_cast<GMainLoop *> (user_data));
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  SimOptions options;
  std::string error;
  if (!parse_sim_options (argc, argv, &options, &error)) {
    g_printerr ("voxbridge-realtime-sim: %s\n", error.c_str ());
    return 2;
  }

  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  g_unix_signal_add (SIGINT, on_quit_signal, loop);
  g_unix_signal_add (SIGTERM, on_quit_signal, loop);

  int status = 0;
  {
    SpeechSynthesizer tts (options.espeak_voice);
    TimingLog timing_log;  /* outlives the server: sessions log until they close */
    SimServer server (options, &tts);
    if (!options.timing_log.empty ()) {
      if (!timing_log.open (options.timing_log, &error)) {
        g_printerr ("voxbridge-realtime-sim: %s\n", error.c_str ());
        return 2;
      }
      server.set_timing_log (&timing_log);
    }
    std::string url;
    if (!server.start (&url, &error)) {
      g_printerr ("voxbridge-realtime-sim: %s\n", error.c_str ());
      status = 1;
    } else {
      std::printf ("voxbridge-realtime-sim listening on %s\n", url.c_str ());
      std::fflush (stdout);
      g_printerr ("behaviour %s, pace %.2f, delta %d ms%s\n", behaviour_name (options.behaviour),
          options.pace, options.delta_ms, options.api_key ? ", API key required" : "");
      g_main_loop_run (loop);
      g_printerr ("voxbridge-realtime-sim: shutting down (%zu open sessions)\n",
          server.session_count ());
      server.shutdown (2000);
    }
  }
  g_main_loop_unref (loop);
  return status;
}
