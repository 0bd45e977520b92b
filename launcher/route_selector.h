#pragma once
/* Picks the route for an incoming call. */

#include "call_facts.h"
#include "deployment_config.h"

namespace voxbridge::launcher {

/* The first route (in config order: priority, then file order) whose rules
 * all match @call; nullptr when none does. A header rule matches when any
 * of the call's headers of that name matches. */
const Route *select_route (const std::vector<Route> & routes, const CallFacts & call);

}  // namespace voxbridge::launcher
