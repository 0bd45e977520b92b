#include "sim_options.h"

#include <glib.h>
#include <json-glib/json-glib.h>

namespace voxbridge::sim {

const char *
behaviour_name (Behaviour behaviour)
{
  switch (behaviour) {
    case Behaviour::kEcho:
      return "echo";
    case Behaviour::kParrot:
      return "parrot";
    case Behaviour::kSpeak:
      return "speak";
  }
  return "speak";
}

static bool
valid_json (const char *text)
{
  JsonParser *parser = json_parser_new ();
  bool ok = json_parser_load_from_data (parser, text, -1, nullptr);
  g_object_unref (parser);
  return ok;
}

bool
parse_sim_options (int argc, char **argv, SimOptions *out, std::string *error)
{
  gchar *host = nullptr, *api_key = nullptr, *tls_cert = nullptr, *tls_key = nullptr;
  gchar *behaviour = nullptr, *function_call = nullptr, *function_args = nullptr;
  gchar *espeak_voice = nullptr;
  gchar *timing_log = nullptr;
  gchar **replies = nullptr;
  gint port = out->port, max_sessions = out->max_sessions, delta_ms = out->delta_ms;
  gdouble pace = out->pace;
  gboolean verbose = FALSE;

  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host, "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "Port to listen on (0 = ephemeral)", "PORT"},
    {"api-key", 0, 0, G_OPTION_ARG_STRING, &api_key,
        "Require this key (Authorization: Bearer or api-key header)", "KEY"},
    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "PEM certificate: serve wss://", "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key of --tls-cert", "FILE"},
    {"max-sessions", 0, 0, G_OPTION_ARG_INT, &max_sessions,
        "Refuse sessions beyond N with HTTP 503 (0 = unlimited)", "N"},
    {"behaviour", 0, 0, G_OPTION_ARG_STRING, &behaviour, "echo, parrot or speak (default)",
        "MODE"},
    {"reply", 0, 0, G_OPTION_ARG_STRING_ARRAY, &replies,
        "Spoken reply text, used in turn (repeatable)", "TEXT"},
    {"pace", 0, 0, G_OPTION_ARG_DOUBLE, &pace,
        "Audio delta pacing as a real-time factor (default 3.0; 0 = all at once)", "FACTOR"},
    {"delta-ms", 0, 0, G_OPTION_ARG_INT, &delta_ms, "Audio per output delta in ms (default 100)",
        "MS"},
    {"function-call", 0, 0, G_OPTION_ARG_STRING, &function_call,
        "Answer the first user turn with a call of this function", "NAME"},
    {"function-args", 0, 0, G_OPTION_ARG_STRING, &function_args,
        "JSON arguments of --function-call (default {})", "JSON"},
    {"espeak-voice", 0, 0, G_OPTION_ARG_STRING, &espeak_voice,
        "espeak-ng voice for spoken replies (default en-us)", "NAME"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every event to stderr", nullptr},
    {"timing-log", 0, 0, G_OPTION_ARG_FILENAME, &timing_log,
        "Write per-session audio timing (appends in, deltas out) to FILE, for benchmarks",
        "FILE"},
    {nullptr}
  };

  GOptionContext *context = g_option_context_new ("- off-line OpenAI/Azure Realtime server");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_set_help_enabled (context, TRUE);
  GError *err = nullptr;
  gchar **args = g_strdupv (argv);  /* g_option_context_parse_strv edits its copy */
  bool ok = g_option_context_parse_strv (context, &args, &err);
  if (!ok) {
    *error = err->message;
    g_error_free (err);
  } else if (g_strv_length (args) > 1) {
    *error = std::string ("Unexpected argument: ") + args[1];
    ok = false;
  }
  g_strfreev (args);
  g_option_context_free (context);

  if (ok) {
    if (host)
      out->host = host;
    if (api_key)
      out->api_key = std::string (api_key);
    if (tls_cert)
      out->tls_cert = tls_cert;
    if (tls_key)
      out->tls_key = tls_key;
    if (function_call)
      out->function_call = std::string (function_call);
    if (function_args)
      out->function_args = function_args;
    if (espeak_voice)
      out->espeak_voice = espeak_voice;
    for (gchar **r = replies; r && *r; r++)
      out->replies.emplace_back (*r);
    out->port = port;
    out->max_sessions = max_sessions;
    out->delta_ms = delta_ms;
    out->pace = pace;
    out->verbose = verbose;
    if (timing_log)
      out->timing_log = timing_log;

    if (behaviour) {
      std::string b = behaviour;
      if (b == "echo")
        out->behaviour = Behaviour::kEcho;
      else if (b == "parrot")
        out->behaviour = Behaviour::kParrot;
      else if (b == "speak")
        out->behaviour = Behaviour::kSpeak;
      else {
        *error = "--behaviour must be echo, parrot or speak, not '" + b + "'";
        ok = false;
      }
    }
  }

  if (ok) {
    if (out->port < 0 || out->port > 65535)
      *error = "--port must be 0..65535";
    else if (out->max_sessions < 0)
      *error = "--max-sessions must be >= 0";
    else if (out->pace < 0)
      *error = "--pace must be >= 0";
    else if (out->delta_ms < 10 || out->delta_ms > 2000)
      *error = "--delta-ms must be 10..2000";
    else if (out->tls_cert.empty () != out->tls_key.empty ())
      *error = "--tls-cert and --tls-key go together";
    else if (out->api_key && out->api_key->empty ())
      *error = "--api-key must not be empty";
    else if (out->function_call && out->function_call->empty ())
      *error = "--function-call needs a function name";
    else if (!valid_json (out->function_args.c_str ()))
      *error = "--function-args must be valid JSON";
    ok = error->empty ();
  }

  g_free (host);
  g_free (api_key);
  g_free (tls_cert);
  g_free (tls_key);
  g_free (behaviour);
  g_free (function_call);
  g_free (function_args);
  g_free (espeak_voice);
  g_strfreev (replies);
  return ok;
}

}  // namespace voxbridge::sim
