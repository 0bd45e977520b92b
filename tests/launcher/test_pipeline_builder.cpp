/* Pipeline building: parse errors are mapped back to the template line. */

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "pipeline_builder.h"

using namespace voxbridge::launcher;

namespace {

class PipelineBuilder : public ::testing::Test {
 protected:
  static void SetUpTestSuite () { gst_init (nullptr, nullptr); }

  PipelineBuildError build_error (const std::string & text)
  {
    PipelineError render_error;
    auto rendered = render_pipeline (text, "p.pipeline", {{"v", "x"}}, render_error);
    EXPECT_TRUE (rendered) << render_error.to_string ();
    PipelineBuildError error;
    GstElement *pipeline = build_pipeline (*rendered, error);
    EXPECT_EQ (pipeline, nullptr);
    if (pipeline)
      gst_object_unref (pipeline);
    return error;
  }
};

}  // namespace

TEST_F (PipelineBuilder, BuildsAPipeline)
{
  PipelineError render_error;
  auto rendered = render_pipeline ("# two branches\nfakesrc num-buffers=1 ! fakesink\n"
      "fakesrc ! fakesink name=${v}", "p.pipeline", {{"v", "second"}}, render_error);
  ASSERT_TRUE (rendered);
  PipelineBuildError error;
  GstElement *pipeline = build_pipeline (*rendered, error);
  ASSERT_NE (pipeline, nullptr) << error.to_string ();
  EXPECT_TRUE (GST_IS_PIPELINE (pipeline));
  EXPECT_FALSE (g_object_is_floating (pipeline));
  GstElement *second = gst_bin_get_by_name (GST_BIN (pipeline), "second");
  EXPECT_NE (second, nullptr);
  gst_clear_object (&second);
  gst_object_unref (pipeline);
}

TEST_F (PipelineBuilder, WrapsASingleElementInAPipeline)
{
  PipelineError render_error;
  auto rendered = render_pipeline ("fakesink name=only", "p", {}, render_error);
  PipelineBuildError error;
  GstElement *pipeline = build_pipeline (*rendered, error);
  ASSERT_NE (pipeline, nullptr) << error.to_string ();
  EXPECT_TRUE (GST_IS_PIPELINE (pipeline));
  GstElement *only = gst_bin_get_by_name (GST_BIN (pipeline), "only");
  EXPECT_NE (only, nullptr);
  gst_clear_object (&only);
  gst_object_unref (pipeline);
}

struct BuildErrorCase {
  std::string text;
  GstParseError code;
  int line;
  const char *message;
};

class BuildErrors : public PipelineBuilder,
    public ::testing::WithParamInterface<BuildErrorCase> {};

TEST_P (BuildErrors, PointAtTheTemplateLine)
{
  PipelineBuildError error = build_error (GetParam ().text);
  EXPECT_EQ (error.domain, GST_PARSE_ERROR);
  EXPECT_EQ (error.code, GetParam ().code) << error.message;
  EXPECT_EQ (error.file, "p.pipeline");
  EXPECT_EQ (error.line, GetParam ().line) << error.to_string ();
  EXPECT_NE (error.message.find (GetParam ().message), std::string::npos) << error.message;
}

INSTANTIATE_TEST_SUITE_P (Table, BuildErrors, ::testing::Values (
    BuildErrorCase {"# comment\nfakesrc\n  ! nosuchelement\n  ! fakesink",
        GST_PARSE_ERROR_NO_SUCH_ELEMENT, 3, "nosuchelement"},
    BuildErrorCase {"fakesrc\n  ! identity\n  ! identity nosuchprop=1\n  ! fakesink",
        GST_PARSE_ERROR_NO_SUCH_PROPERTY, 3, "nosuchprop"},
    BuildErrorCase {"fakesrc name=a\n  ! fakesink\nfakesrc name=b num-buffers=${v}\n  ! fakesink",
        GST_PARSE_ERROR_COULD_NOT_SET_PROPERTY, 3, "num-buffers"},
    BuildErrorCase {"fakesrc\n  ! queue\n\n  ! fakesrc",
        GST_PARSE_ERROR_LINK, 4, "could not link"},
    BuildErrorCase {"fakesrc\n  ! audio/x-raw,rate=8000\n  ! videotestsrc name=v",
        GST_PARSE_ERROR_LINK, 3, "could not link"}));

TEST_F (PipelineBuilder, ReportsMissingElements)
{
  PipelineBuildError error = build_error ("fakesrc ! nosuchelement ! fakesink");
  EXPECT_EQ (error.missing_elements, (std::vector<std::string> {"nosuchelement"}));
}

TEST (FindElement, ByNameOrFactory)
{
  const std::string text = "fakesrc ! queue\n ! identity name=\"id\" silent=true\n ! q2 "
      "location=\"queue\"\n ! queue";
  EXPECT_EQ (find_element_in_description (text, "queue0"), text.find ("queue"));
  EXPECT_EQ (find_element_in_description (text, "id"), text.find ("identity"));
  EXPECT_EQ (find_element_in_description (text, "q2"), text.find ("q2"));
  EXPECT_EQ (find_element_in_description (text, "nothere"), std::string::npos);
}

TEST (ElementFactories, AreTheWordsThatCreateElements)
{
  EXPECT_EQ (pipeline_element_factories (
          "siprtpsrc call-id=\"a ! b\" ! audio/x-mulaw,rate=8000 ! queue\n"
          "  ! realtimesink instructions='x ! notanelement'\n"
          "fakesrc ! t. t. ! fakesink t.src_0 ! identity name=x silent = true!fakesink"),
      (std::vector<std::string> {"siprtpsrc", "queue", "realtimesink", "fakesrc", "fakesink",
          "identity", "fakesink"}));
}

TEST_F (PipelineBuilder, ListsUnregisteredFactories)
{
  EXPECT_EQ (missing_element_factories ("fakesrc ! nosuchone ! fakesink ! nosuchone"),
      (std::vector<std::string> {"nosuchone"}));
}
