/* Deployment check behind voxbridge --check-config. */

#include "config_check.h"

#include "call_variables.h"
#include "pipeline_builder.h"

namespace voxbridge::launcher {

namespace {

void
check_environment (const DeploymentConfig & config, DeploymentCheck & check)
{
  auto require = [&] (const std::string & name, const char *what) {
    if (!name.empty () && !g_getenv (name.c_str ()))
      check.warnings.push_back (config.file + ": environment variable " + name + " ("
          + what + ") is not set here");
  };
  require (config.ai.key_env, "[ai] key-env");
  require (config.http.token_env, "[http] token-env");
}

void
check_pipeline (const DeploymentConfig & config, const Route & route,
    const std::string & file, DeploymentCheck & check)
{
  const std::string where = "[route " + route.name + "] " + file;
  PipelineError render_error;
  auto rendered = render_pipeline_file (file,
      make_call_variables (config, route, example_call_facts ()), render_error);
  if (!rendered) {
    check.errors.push_back (render_error.to_string ());
    return;
  }
  std::vector<std::string> missing = missing_element_factories (rendered->description);
  if (!missing.empty ()) {
    std::string list;
    for (const auto & name : missing)
      list += (list.empty () ? "" : ", ") + name;
    check.warnings.push_back (where + ": rendered, not built: elements not registered: "
        + list);
    return;
  }
  PipelineBuildError build_error;
  GstElement *pipeline = build_pipeline (*rendered, build_error);
  if (!pipeline) {
    check.errors.push_back (build_error.to_string ());
    return;
  }
  gst_object_unref (pipeline);
  check.notes.push_back (where + ": rendered and built");
}

}  // namespace

DeploymentCheck
check_deployment (const std::string & config_path)
{
  DeploymentCheck check;
  ConfigLoadResult result = load_deployment_config (config_path);
  for (const auto & d : result.diagnostics) {
    (d.severity == ConfigDiagnostic::Severity::Error ? check.errors : check.warnings)
        .push_back (d.to_string ());
  }
  if (!result.ok ())
    return check;
  const DeploymentConfig & config = *result.config;
  check_environment (config, check);
  const DeploymentCheck pipelines = check_route_pipelines (config);
  check.errors.insert (check.errors.end (), pipelines.errors.begin (), pipelines.errors.end ());
  check.warnings.insert (check.warnings.end (), pipelines.warnings.begin (),
      pipelines.warnings.end ());
  check.notes.insert (check.notes.end (), pipelines.notes.begin (), pipelines.notes.end ());
  return check;
}

DeploymentCheck
check_route_pipelines (const DeploymentConfig & config)
{
  DeploymentCheck check;
  for (const Route & route : config.routes) {
    check_pipeline (config, route, route.pipeline_file, check);
    if (!route.fallback_pipeline_file.empty ())
      check_pipeline (config, route, route.fallback_pipeline_file, check);
  }
  return check;
}

}  // namespace voxbridge::launcher
