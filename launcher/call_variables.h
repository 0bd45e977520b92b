#pragma once
/* The ${name} variables a pipeline description of a call can use (the list
 * is in launcher/CONFIG.md, "Pipeline variables"). */

#include "call_facts.h"
#include "deployment_config.h"
#include "pipeline_template.h"

namespace voxbridge::launcher {

PipelineVariables make_call_variables (const DeploymentConfig & config,
    const Route & route, const CallFacts & call);

}  // namespace voxbridge::launcher
