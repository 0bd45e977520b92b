/* Pipeline template rendering: substitution, comments, errors with
 * file:line:column, and safe quoting of caller-controlled values. */

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "pipeline_builder.h"
#include "pipeline_template.h"

using namespace voxbridge::launcher;

namespace {

std::string
render_or_fail (const std::string & text, const PipelineVariables & vars)
{
  PipelineError error;
  auto rendered = render_pipeline (text, "t.pipeline", vars, error);
  EXPECT_TRUE (rendered.has_value ()) << error.to_string ();
  return rendered ? rendered->description : "";
}

PipelineError
render_error (const std::string & text, const PipelineVariables & vars)
{
  PipelineError error;
  auto rendered = render_pipeline (text, "t.pipeline", vars, error);
  EXPECT_FALSE (rendered.has_value ()) << rendered->description;
  return error;
}

}  // namespace

struct RenderCase {
  std::string text;
  PipelineVariables vars;
  std::string expected;
};

class Rendering : public ::testing::TestWithParam<RenderCase> {};

TEST_P (Rendering, Substitutes)
{
  EXPECT_EQ (render_or_fail (GetParam ().text, GetParam ().vars), GetParam ().expected);
}

INSTANTIATE_TEST_SUITE_P (Table, Rendering, ::testing::Values (
    /* whole property values are quoted */
    RenderCase {"a p=${x} ! b", {{"x", "v"}}, "a p=\"v\" ! b"},
    RenderCase {"a p=${x}", {{"x", "two words"}}, "a p=\"two words\""},
    RenderCase {"a p = ${x} q=1", {{"x", "v"}}, "a p = \"v\" q=1"},
    RenderCase {"a p=${x}!b", {{"x", "v"}}, "a p=\"v\"!b"},
    RenderCase {"a p=${x}", {{"x", "say \"hi\" \\o/"}}, "a p=\"say \\\"hi\\\" \\\\o/\""},
    RenderCase {"a p=${x}", {{"x", ""}}, "a p=\"\""},
    /* embedded values are inserted as they are (inert characters only) */
    RenderCase {"${c},rate=8000", {{"c", "audio/x-mulaw"}}, "audio/x-mulaw,rate=8000"},
    RenderCase {"a location=/p/${id}.wav", {{"id", "c-1"}}, "a location=/p/c-1.wav"},
    RenderCase {"a p=\"x ${v} y\"", {{"v", "+1555@h"}}, "a p=\"x +1555@h y\""},
    RenderCase {"${e} ! b", {{"e", "mulawdec"}}, "mulawdec ! b"},
    /* comments, $$ and lone $ */
    RenderCase {"# ${unknown} in a comment\na", {}, "\na"},
    RenderCase {"  # indented comment\na", {}, "\na"},
    RenderCase {"a p=$$HOME q=$5", {}, "a p=$HOME q=$5"},
    /* values are not rendered again */
    RenderCase {"a p=${x}", {{"x", "${y}"}, {"y", "no"}}, "a p=\"${y}\""}));

struct ErrorCase {
  std::string text;
  PipelineVariables vars;
  int line;
  int column;
  std::string message;
};

class RenderErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P (RenderErrors, NameFileLineColumn)
{
  PipelineError error = render_error (GetParam ().text, GetParam ().vars);
  EXPECT_EQ (error.file, "t.pipeline");
  EXPECT_EQ (error.line, GetParam ().line);
  EXPECT_EQ (error.column, GetParam ().column);
  EXPECT_NE (error.message.find (GetParam ().message), std::string::npos) << error.message;
}

INSTANTIATE_TEST_SUITE_P (Table, RenderErrors, ::testing::Values (
    ErrorCase {"# c\na ! b p=${nope}", {}, 2, 9, "unknown variable ${nope}"},
    ErrorCase {"a p=\"é ${nope}\"", {}, 1, 8, "unknown variable ${nope}"},
    ErrorCase {"a p=${x", {}, 1, 5, "without a closing '}'"},
    ErrorCase {"a p=${}", {}, 1, 5, "not a variable name"},
    ErrorCase {"a p=${a b}", {}, 1, 5, "not a variable name"},
    ErrorCase {"a\n  ! ${e} ! b", {{"e", "x ! filesink"}}, 2, 5,
        "contains ' ', which is only allowed where the variable is a whole property value"},
    ErrorCase {"a location=/p/${id}.wav", {{"id", "a\"b"}}, 1, 15, "contains '\"'"},
    ErrorCase {"a p=\"${v}\"", {{"v", "a\" ! b"}}, 1, 6, "contains '\"'"},
    ErrorCase {"a p=${v}", {{"v", "\xff\xfe"}}, 1, 5, "not valid UTF-8"}));

TEST (Rendering, MapsRenderedLinesBackToTheTemplate)
{
  PipelineError error;
  auto rendered = render_pipeline ("a p=${v}\n! b\n! c", "t", {{"v", "x\ny\nz"}}, error);
  ASSERT_TRUE (rendered);
  /* The value's newlines stay inside the quotes, so rendered line 4 ("! b")
   * is template line 2. */
  EXPECT_EQ (rendered->description, "a p=\"x\ny\nz\"\n! b\n! c");
  EXPECT_EQ (rendered->template_line_at (rendered->description.find ("! b")), 2);
  EXPECT_EQ (rendered->template_line_at (rendered->description.find ("! c")), 3);
  EXPECT_EQ (rendered->template_line_at (rendered->description.find ("z")), 1);
}

TEST (Rendering, ListsTheVariablesATemplateUses)
{
  EXPECT_EQ (pipeline_template_variables ("# ${a}\nx p=${b} ${c}$${d}\n${b}"),
      (std::vector<std::string> {"b", "c"}));
}

/* The rendered description must give the element exactly the caller's
 * value and nothing else: no extra elements, links or properties. */
class HostileValues : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite () { gst_init (nullptr, nullptr); }
};

TEST_P (HostileValues, CannotInjectPipelineSyntax)
{
  const std::string value = GetParam ();
  const std::string text =
      "filesrc name=src location=${uui}\n"
      "  ! filesink name=sink location=${uui}\n";
  PipelineError error;
  auto rendered = render_pipeline (text, "uui.pipeline", {{"uui", value}}, error);
  ASSERT_TRUE (rendered) << error.to_string ();

  PipelineBuildError build_error;
  GstElement *pipeline = build_pipeline (*rendered, build_error);
  ASSERT_NE (pipeline, nullptr) << build_error.to_string () << "\n" << rendered->description;
  EXPECT_EQ (GST_BIN (pipeline)->numchildren, 2);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  ASSERT_NE (src, nullptr);
  gchar *location = nullptr;
  guint blocksize = 0;
  g_object_get (src, "location", &location, "blocksize", &blocksize, nullptr);
  EXPECT_STREQ (location, value.c_str ()) << rendered->description;
  EXPECT_EQ (blocksize, 4096u) << "a value set another property";
  g_free (location);
  gst_object_unref (src);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  ASSERT_NE (sink, nullptr);
  gboolean append = TRUE;
  g_object_get (sink, "location", &location, "append", &append, nullptr);
  EXPECT_STREQ (location, value.c_str ()) << rendered->description;
  EXPECT_FALSE (append) << "a value set a property of another element";
  g_free (location);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

INSTANTIATE_TEST_SUITE_P (Table, HostileValues, ::testing::Values (
    "00a1b2c3;encoding=hex",
    "x ! filesink location=/tmp/pwned",
    "\" ! filesink location=/tmp/pwned name=\"",
    "' ! filesink location=/tmp/pwned name='",
    "a\\\" ! fakesink sync=false \\",       /* escaped quote then a backslash inside */
    "\\\" ! fakesink sync=false ! \"",
    "x\" sync=false \"",
    "multi\nline\tvalue",
    "a=b, c=d; e",
    "${call.id} $$ $",
    "caf\xc3\xa9 \xe2\x98\x8e",
    "((( ))) [ ] { } < >",
    "\\\\server\\share\\x.wav ",
    "x blocksize=1 ! filesink append=true",
    "x\" blocksize=\"1",
    "ends with a backslash \\",
    "\\",
    "\"quoted\"",
    "\"",
    "\"\"",
    "NULL",
    "\"NULL\"",
    "\"a\\\\\" ! fakesink dump=true \\"));
