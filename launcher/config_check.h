#pragma once
/* voxbridge --check-config: everything that can be checked about a
 * deployment without taking calls. The config is validated, the
 * environment variables it names are looked up, and every route's pipeline
 * files are rendered for a representative call and, where their elements
 * are registered, built. */

#include <string>
#include <vector>

namespace voxbridge::launcher {

struct DeploymentCheck {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;      /* what was checked */

  bool ok () const { return errors.empty (); }
};

/* Needs gst_init () for the build step. */
DeploymentCheck check_deployment (const std::string & config_path);

struct DeploymentConfig;
/* The pipeline part of the check, for a config already loaded: the daemon
 * runs it before taking calls, so that loading the plugins and setting up
 * the element classes is not left to the first call's setup (it made the
 * first call's INVITE -> 200 OK about 20 ms slower than the others). */
DeploymentCheck check_route_pipelines (const DeploymentConfig & config);

}  // namespace voxbridge::launcher
