/* Every shipped pipelines/NAME.pipeline renders with the full set of call
 * variables; where the elements it uses are registered, it also builds. */

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "call_variables.h"
#include "pipeline_builder.h"
#include "test_helpers.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;

namespace {

std::vector<std::string>
shipped_pipelines ()
{
  std::vector<std::string> files;
  GDir *dir = g_dir_open (source_path ("pipelines").c_str (), 0, nullptr);
  if (!dir)
    return files;
  while (const char *name = g_dir_read_name (dir)) {
    if (g_str_has_suffix (name, ".pipeline"))
      files.emplace_back (name);
  }
  g_dir_close (dir);
  std::sort (files.begin (), files.end ());
  return files;
}

/* The full variable set of a call routed by examples/local-dev.conf, with
 * a User-to-User value that tries to break out of its quotes. */
PipelineVariables
full_variables ()
{
  ConfigLoadResult result = load_deployment_config (source_path ("examples/local-dev.conf"));
  EXPECT_TRUE (result.ok ());
  const DeploymentConfig & config = *result.config;
  const Route & route = config.routes.back ();
  CallFacts call = example_call_facts ();
  call.headers.emplace_back ("User-to-User", "\" ! filesink location=/tmp/x \\");
  std::swap (call.headers.front (), call.headers.back ());
  return make_call_variables (config, route, call);
}

class ShippedPipelines : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite () { gst_init (nullptr, nullptr); }
};

}  // namespace

TEST (ShippedPipelinesList, HasTheDocumentedFiles)
{
  auto files = shipped_pipelines ();
  for (const char *expected : {"connect-evt-g711.pipeline", "connect-evt-pcm24k.pipeline",
           "chime-vc-trunk.pipeline", "echo-test.pipeline", "fallback-prompt.pipeline"})
    EXPECT_NE (std::find (files.begin (), files.end (), expected), files.end ()) << expected;
}

TEST_P (ShippedPipelines, Render)
{
  const std::string path = source_path ("pipelines/" + GetParam ());
  PipelineError error;
  auto rendered = render_pipeline_file (path, full_variables (), error);
  ASSERT_TRUE (rendered) << error.to_string ();
  EXPECT_EQ (rendered->description.find ("${"), std::string::npos);
  EXPECT_NE (rendered->description.find ("example-call-0001"), std::string::npos);
}

TEST_P (ShippedPipelines, Build)
{
  const std::string path = source_path ("pipelines/" + GetParam ());
  PipelineError error;
  auto rendered = render_pipeline_file (path, full_variables (), error);
  ASSERT_TRUE (rendered) << error.to_string ();

  std::vector<std::string> missing = missing_element_factories (rendered->description);
  if (!missing.empty ()) {
    std::string list;
    for (const auto & m : missing)
      list += " " + m;
    GTEST_SKIP () << "rendered; not built, elements not registered in this build:" << list;
  }

  PipelineBuildError build_error;
  GstElement *pipeline = build_pipeline (*rendered, build_error);
  ASSERT_NE (pipeline, nullptr) << build_error.to_string () << "\n" << rendered->description;
  gst_object_unref (pipeline);
}

INSTANTIATE_TEST_SUITE_P (Files, ShippedPipelines, ::testing::ValuesIn (shipped_pipelines ()),
    [] (const auto & info) {
      std::string name = info.param.substr (0, info.param.find ('.'));
      std::replace (name.begin (), name.end (), '-', '_');
      return name;
    });
