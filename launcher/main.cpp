/* voxbridge: the launcher daemon.
 *
 *   voxbridge --check-config examples/local-dev.conf
 *
 * Until the SIP side (sipd) is wired in, the executable offers the
 * deployment check only. */

#include <gst/gst.h>

#include <cstdio>

#include "config_check.h"

int
main (int argc, char **argv)
{
  gchar *check_config = nullptr;
  GOptionEntry entries[] = {
    {"check-config", 0, 0, G_OPTION_ARG_FILENAME, &check_config,
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
  if (!check_config) {
    g_printerr ("voxbridge: this build can only check a deployment: "
        "voxbridge --check-config FILE\n");
    return 2;
  }

  gst_init (nullptr, nullptr);
  voxbridge::launcher::DeploymentCheck check =
      voxbridge::launcher::check_deployment (check_config);
  for (const auto & line : check.notes)
    g_print ("%s\n", line.c_str ());
  for (const auto & line : check.warnings)
    g_printerr ("%s\n", line.find (": warning: ") != std::string::npos
        ? line.c_str () : ("warning: " + line).c_str ());
  for (const auto & line : check.errors)
    g_printerr ("%s\n", line.c_str ());
  g_print ("%s: %s (%zu error(s), %zu warning(s))\n", check_config,
      check.ok () ? "OK" : "FAILED", check.errors.size (), check.warnings.size ());
  g_free (check_config);
  return check.ok () ? 0 : 1;
}
