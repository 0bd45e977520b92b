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

}  // namespace voxbridge::launcher
