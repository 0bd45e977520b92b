/* The deployment check behind voxbridge --check-config. */

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "config_check.h"
#include "test_helpers.h"

using namespace voxbridge::launcher;
using voxbridge::launcher::test::source_path;

namespace {

class ConfigCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite () { gst_init (nullptr, nullptr); }
};

bool
contains (const std::vector<std::string> & lines, const std::string & needle)
{
  for (const auto & line : lines) {
    if (line.find (needle) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST_F (ConfigCheck, ShippedExamplePasses)
{
  g_setenv ("OPENAI_API_KEY", "test", TRUE);
  DeploymentCheck check = check_deployment (source_path ("examples/local-dev.conf"));
  EXPECT_TRUE (check.ok ());
  for (const auto & e : check.errors)
    ADD_FAILURE () << e;
  EXPECT_FALSE (contains (check.warnings, "OPENAI_API_KEY"));
  /* each route's pipeline (and fallback) is rendered, and built or reported */
  size_t checked = check.notes.size ();
  for (const auto & w : check.warnings)
    checked += w.find ("recording-dir") == std::string::npos;   /* made at the first call */
  EXPECT_EQ (checked, 3u);
}

TEST_F (ConfigCheck, WarnsAboutUnsetEnvironmentVariables)
{
  /* local-dev.conf names no key (the simulator needs none); the Chime
   * example names both an AI key and an HTTP token variable. */
  g_unsetenv ("OPENAI_API_KEY");
  g_unsetenv ("VOXBRIDGE_HTTP_TOKEN");
  DeploymentCheck check = check_deployment (source_path ("examples/chime-voice-connector.conf"));
  EXPECT_TRUE (check.ok ());
  EXPECT_TRUE (contains (check.warnings, "environment variable OPENAI_API_KEY"));
  EXPECT_TRUE (contains (check.warnings, "environment variable VOXBRIDGE_HTTP_TOKEN"));
}

TEST_F (ConfigCheck, ReportsPipelineErrorsWithFileLineColumn)
{
  DeploymentCheck check = check_deployment (source_path ("tests/launcher/data/broken-route.conf"));
  EXPECT_FALSE (check.ok ());
  ASSERT_EQ (check.errors.size (), 1u);
  EXPECT_EQ (check.errors[0], source_path ("tests/launcher/data/unknown-variable.pipeline")
      + ":2:25: unknown variable ${caller.name}");
}

TEST_F (ConfigCheck, ReportsConfigErrors)
{
  DeploymentCheck check = check_deployment ("/nonexistent.conf");
  EXPECT_FALSE (check.ok ());
  EXPECT_TRUE (check.notes.empty ());
}
