/* voxbridge: the launcher daemon.
 *
 *   voxbridge --config examples/local-dev.conf        take calls
 *   voxbridge --check-config examples/local-dev.conf  validate, then exit
 *
 * Call events go to the call event log ([log], standard output by default);
 * diagnostics go to standard error. SIGTERM/SIGINT end every call with BYE,
 * stop the graphs and exit 0. */

#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>

#include "config_check.h"
#include "daemon.h"

namespace {

/* Peers that never answer our BYE must not keep the process alive. */
constexpr guint kShutdownLimitS = 15;

int
check_config (const char *path)
{
  voxbridge::launcher::DeploymentCheck check = voxbridge::launcher::check_deployment (path);
  for (const auto & line : check.notes)
    g_print ("%s\n", line.c_str ());
  for (const auto & line : check.warnings)
    g_printerr ("%s\n", line.find (": warning: ") != std::string::npos
        ? line.c_str () : ("warning: " + line).c_str ());
  for (const auto & line : check.errors)
    g_printerr ("%s\n", line.c_str ());
  g_print ("%s: %s (%zu error(s), %zu warning(s))\n", path,
      check.ok () ? "OK" : "FAILED", check.errors.size (), check.warnings.size ());
  return check.ok () ? 0 : 1;
}

struct Run {
  voxbridge::launcher::Daemon *daemon = nullptr;
  GMainLoop *loop = nullptr;
  bool stopping = false;
};

gboolean
on_signal (gpointer data)
{
  auto *run = static_cast<Run *> (data);
  if (run->stopping) {
    g_message ("second signal: exiting without waiting for calls to end");
    g_main_loop_quit (run->loop);
    return G_SOURCE_CONTINUE;
  }
  run->stopping = true;
  run->daemon->shutdown ([run] () { g_main_loop_quit (run->loop); });
  g_timeout_add_seconds (kShutdownLimitS, [] (gpointer data) -> gboolean {
        g_warning ("calls did not end within %u s; exiting", kShutdownLimitS);
        g_main_loop_quit (static_cast<Run *> (data)->loop);
        return G_SOURCE_REMOVE;
      }, run);
  return G_SOURCE_CONTINUE;
}

int
run_daemon (const char *path)
{
  auto loaded = voxbridge::launcher::load_deployment_config (path);
  for (const auto & diagnostic : loaded.diagnostics)
    g_printerr ("%s\n", diagnostic.to_string ().c_str ());
  if (!loaded.ok ()) {
    g_printerr ("voxbridge: %s has errors; not starting\n", path);
    return 1;
  }

  /* Builds every route's graph once (not run): a broken one is reported
   * now, and the first call does not pay for loading the plugins. */
  const auto pipelines = voxbridge::launcher::check_route_pipelines (*loaded.config);
  for (const auto & problem : pipelines.errors)
    g_printerr ("voxbridge: warning: %s (calls on this route will be refused)\n", problem.c_str ());
  for (const auto & problem : pipelines.warnings)
    g_printerr ("voxbridge: warning: %s\n", problem.c_str ());

  int status = 0;
  {
    voxbridge::launcher::Daemon daemon (std::move (*loaded.config));
    std::string error;
    if (!daemon.start (error)) {
      g_printerr ("voxbridge: %s\n", error.c_str ());
      return 1;
    }
    Run run;
    run.daemon = &daemon;
    run.loop = g_main_loop_new (nullptr, FALSE);
    guint term = g_unix_signal_add (SIGTERM, on_signal, &run);
    guint interrupt = g_unix_signal_add (SIGINT, on_signal, &run);
    g_main_loop_run (run.loop);
    g_source_remove (term);
    g_source_remove (interrupt);
    g_main_loop_unref (run.loop);

    const size_t ports = daemon.rtp_ports_in_use ();
    const size_t calls = daemon.session_count ();
    g_message ("stopped: %zu call(s), %zu RTP port(s) still held", calls, ports);
    status = ports == 0 && calls == 0 ? 0 : 1;
  }
  return status;
}

}  // namespace

int
main (int argc, char **argv)
{
  gchar *check_path = nullptr;
  gchar *config_path = nullptr;
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
        "Run with this deployment config", "FILE"},
    {"check-config", 0, 0, G_OPTION_ARG_FILENAME, &check_path,
        "Validate a deployment config and its pipelines, then exit", "FILE"},
    {nullptr}
  };
  GOptionContext *options = g_option_context_new ("- bridge phone calls to realtime voice AI");
  g_option_context_add_main_entries (options, entries, nullptr);
  g_option_context_add_group (options, gst_init_get_option_group ());
  GError *err = nullptr;
  if (!g_option_context_parse (options, &argc, &argv, &err)) {
    g_printerr ("voxbridge: %s\n", err->message);
    g_clear_error (&err);
    g_option_context_free (options);
    return 2;
  }
  g_option_context_free (options);
  if (!check_path && !config_path) {
    g_printerr ("usage: voxbridge --config FILE | --check-config FILE\n");
    return 2;
  }

  gst_init (nullptr, nullptr);
  int status = check_path ? check_config (check_path) : run_daemon (config_path);
  g_free (check_path);
  g_free (config_path);
  return status;
}
