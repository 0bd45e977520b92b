/* Builds a call's pipeline variables from the call, its route and the
 * deployment config. */

#include "call_variables.h"

namespace voxbridge::launcher {

const char *
CallFacts::header (const std::string & name) const
{
  for (const auto & [header_name, value] : headers) {
    if (g_ascii_strcasecmp (header_name.c_str (), name.c_str ()) == 0)
      return value.c_str ();
  }
  return nullptr;
}

CallFacts
example_call_facts ()
{
  CallFacts call;
  call.call_id = "example-call-0001";
  call.rtp_port = 20000;
  call.codec = "PCMU";
  call.request_user = "+15550100";
  call.from_uri = "sip:+15550123@203.0.113.5";
  call.from_user = "+15550123";
  call.to_uri = "sip:+15550100@198.51.100.7";
  call.to_user = "+15550100";
  call.headers = {
    {"User-to-User", "00a1b2c3d4;encoding=hex"},
    {"X-Voice-Connector-ID", "abcdef0123456789"},
  };
  return call;
}

PipelineVariables
make_call_variables (const DeploymentConfig & config, const Route & route,
    const CallFacts & call)
{
  const bool alaw = call.codec == "PCMA";
  PipelineVariables vars = {
    {"call.id", call.call_id},
    {"call.direction", call.direction},
    {"rtp.port", std::to_string (call.rtp_port)},
    {"codec", alaw ? "PCMA" : "PCMU"},
    {"codec.caps", alaw ? "audio/x-alaw" : "audio/x-mulaw"},
    {"codec.decoder", alaw ? "alawdec" : "mulawdec"},
    {"codec.encoder", alaw ? "alawenc" : "mulawenc"},
    {"request.user", call.request_user},
    {"from.uri", call.from_uri},
    {"from.user", call.from_user},
    {"to.uri", call.to_uri},
    {"to.user", call.to_user},
    {"uui", call.header ("User-to-User") ? call.header ("User-to-User") : ""},
    {"ai.url", config.ai.effective_url ()},
    {"ai.auth", ai_auth_name (config.ai.effective_auth ())},
    {"ai.key-env", config.ai.key_env},
    {"ai.model", config.ai.model},
    {"ai.ca-file", config.ai.ca_file},
    {"route.name", route.name},
    {"instructions", route.instructions},
    {"voice", route.voice},
    {"greeting", route.greeting},
    {"prompt", route.prompt},
  };
  for (const auto & [name, value] : call.headers) {
    gchar *lower = g_ascii_strdown (name.c_str (), -1);
    vars.emplace (std::string ("header.") + lower, value);  /* first one wins */
    g_free (lower);
  }
  for (const auto & [name, value] : route.vars)
    vars["var." + name] = value;
  return vars;
}

}  // namespace voxbridge::launcher
