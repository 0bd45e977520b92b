/* Route selection: request-URI user and header rules, first match wins. */

#include "route_selector.h"

namespace voxbridge::launcher {

namespace {

bool
rule_matches (const MatchRule & rule, const CallFacts & call)
{
  if (rule.header ().empty ())
    return rule.matches (call.request_user.c_str ());
  for (const auto & [name, value] : call.headers) {
    if (g_ascii_strcasecmp (name.c_str (), rule.header ().c_str ()) == 0
        && rule.matches (value.c_str ()))
      return true;
  }
  return false;
}

}  // namespace

const Route *
select_route (const std::vector<Route> & routes, const CallFacts & call)
{
  for (const Route & route : routes) {
    bool all = true;
    for (const MatchRule & rule : route.rules)
      all = all && rule_matches (rule, call);
    if (all)
      return &route;
  }
  return nullptr;
}

}  // namespace voxbridge::launcher
