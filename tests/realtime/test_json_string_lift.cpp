/* lift_json_string_member: which "delta" members are lifted out of a JSON
 * object, and what is left for json-glib. */

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "json_string_lift.h"

using voxbridge::realtime::lift_json_string_member;

namespace {

const std::string kLong (80, 'A');

struct Lift {
  bool lifted = false;
  std::string value;
  std::string rest;
};

Lift
lift (const std::string & text, gsize min_length = 64)
{
  Lift out;
  std::string_view value;
  out.lifted = lift_json_string_member (text.data (), text.size (), "delta", min_length,
      &value, &out.rest);
  out.value = std::string (value);
  return out;
}

TEST (JsonStringLift, LiftsTheTopLevelMember)
{
  const std::string text = R"({"type":"response.output_audio.delta","item_id":"i1","delta":")"
      + kLong + R"(","content_index":0})";
  Lift l = lift (text);
  ASSERT_TRUE (l.lifted);
  EXPECT_EQ (l.value, kLong);
  EXPECT_EQ (l.rest,
      R"({"type":"response.output_audio.delta","item_id":"i1","delta":"","content_index":0})");
}

TEST (JsonStringLift, SpacesAroundTheColonAndEveryBase64Character)
{
  const std::string value = "ABCXYZabcxyz0189+/" + kLong + "==";
  Lift l = lift ("\n {\"delta\" :\t\"" + value + "\" }");
  ASSERT_TRUE (l.lifted);
  EXPECT_EQ (l.value, value);
  EXPECT_EQ (l.rest, "\n {\"delta\" :\t\"\" }");
}

TEST (JsonStringLift, LeavesEverythingElseToJsonGlib)
{
  const std::string cases[] = {
    /* nested, not top-level */
    R"({"type":"x","item":{"delta":")" + kLong + R"("}})",
    R"({"type":"x","list":[{"delta":")" + kLong + R"("}]})",
    /* "delta" as a value, then a long string under another name */
    R"({"type":"delta","audio":")" + kLong + R"("})",
    /* the name inside another string, escaped */
    R"({"type":"x \"delta\":\")" + kLong + R"("})",
    /* an escape sequence or a character outside base64 in the value */
    R"({"delta":")" + kLong + R"(\/AA"})",
    R"({"delta":")" + kLong + R"( AA"})",
    R"({"delta":")" + kLong + "\xc3\xa9" + R"("})",
    /* too short, not a string, unterminated, not an object, a name with escapes */
    R"({"delta":"AAAA"})",
    R"({"delta":12345})",
    R"({"delta":")" + kLong,
    R"({"type":"x","t":")" + kLong,
    R"(["delta",")" + kLong + R"("])",
    R"({"d\u0065lta":")" + kLong + R"("})",
    /* the object ends before: what follows is not looked at */
    R"({"type":"x"} {"delta":")" + kLong + R"("})",
    "",
    "{",
  };
  for (const std::string & text : cases) {
    SCOPED_TRACE (text);
    Lift l = lift (text);
    EXPECT_FALSE (l.lifted);
    EXPECT_TRUE (l.rest.empty ());
  }
}

TEST (JsonStringLift, FindsTheMemberAfterStringsWithEscapesAndNestedValues)
{
  const std::string text = R"({"a":"q\"uote\\","b":{"delta":"x","c":[1,{"d":"}"}]},"delta":")"
      + kLong + R"("})";
  Lift l = lift (text);
  ASSERT_TRUE (l.lifted);
  EXPECT_EQ (l.value, kLong);
  EXPECT_EQ (l.rest, R"({"a":"q\"uote\\","b":{"delta":"x","c":[1,{"d":"}"}]},"delta":""})");
}

TEST (JsonStringLift, NeverReadsPastTheLength)
{
  /* The value's closing quote lies beyond @length: nothing is lifted. */
  const std::string text = R"({"delta":")" + kLong + R"("})";
  std::string_view value;
  std::string rest;
  EXPECT_FALSE (lift_json_string_member (text.data (), text.size () - 2, "delta", 64, &value,
      &rest));
}

}  // namespace
