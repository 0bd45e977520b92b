#pragma once
/* The tools a route lets the model call: the built-ins (end_call,
 * transfer_call, send_dtmf) and the [tool NAME] sections of the deployment
 * config, as the function definitions of a Realtime session.update (GA:
 * {"type":"function","name","description","parameters"}). Pure functions. */

#include <string>
#include <vector>

#include "deployment_config.h"

namespace voxbridge::launcher {

/* "end_call", "transfer_call", "send_dtmf". */
const std::vector<std::string> & builtin_tool_names ();
bool is_builtin_tool (const std::string & name);

/* A name the Realtime API takes for a function: 1–64 of a–z A–Z 0–9 _ -. */
bool is_tool_name (const std::string & name);

/* The realtimesink `tools` value for @route: a JSON array with one function
 * per name of route.tools, in that order; "" when the route has no tools.
 * Names that are neither built-in nor in config.tools are left out (the
 * config parser refuses them). */
std::string route_tools_json (const DeploymentConfig & config, const Route & route);

}  // namespace voxbridge::launcher
