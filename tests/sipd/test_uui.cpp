/* User-to-User header decoding, table-driven. */

#include "uui.h"

#include <gtest/gtest.h>

using namespace voxbridge::sipd;

namespace {

struct UuiCase {
  const char *name;
  const char *value;
  bool has_text;
  const char *text;       /* when has_text */
  const char *encoding;
};

class UuiTable : public ::testing::TestWithParam<UuiCase> {};

TEST_P (UuiTable, Decodes)
{
  const UuiCase &c = GetParam ();
  UserToUser uui = decode_user_to_user (c.value);
  EXPECT_EQ (uui.raw, c.value);
  EXPECT_EQ (uui.encoding, c.encoding);
  ASSERT_EQ (uui.text.has_value (), c.has_text) << uui.error;
  if (c.has_text)
    EXPECT_EQ (*uui.text, c.text);
  else
    EXPECT_FALSE (uui.error.empty ());
}

INSTANTIATE_TEST_SUITE_P (Uui, UuiTable, ::testing::Values (
    /* Amazon Connect: UserToUserInformation, hex with ;encoding=hex */
    UuiCase {"connect_json", "7b22636f6e746163744964223a22616263227d;encoding=hex",
        true, "{\"contactId\":\"abc\"}", "hex"},
    UuiCase {"upper_case_hex_and_param", "48454C4C4F;Encoding=HEX", true, "HELLO", "hex"},
    UuiCase {"rfc7433_params", "68656c6c6f;encoding=hex;purpose=isdn-uui;content=isdn-uui",
        true, "hello", "hex"},
    UuiCase {"spaces_around", "  68656c6c6f ; encoding = hex ", true, "hello", "hex"},
    UuiCase {"utf8", "c3a97465;encoding=hex", true, "\xc3\xa9te", "hex"},
    UuiCase {"hex_without_encoding", "68656c6c6f", true, "hello", ""},
    UuiCase {"plain_text_without_encoding", "ticket-42", true, "ticket-42", ""},
    UuiCase {"quoted_plain", "\"a;b\";purpose=x", true, "a;b", ""},
    UuiCase {"binary_without_encoding_kept_as_hex", "00ff10", true, "00ff10", ""},
    UuiCase {"odd_length", "68656c6c6;encoding=hex", false, "", "hex"},
    UuiCase {"not_hex", "zz656c6c6f;encoding=hex", false, "", "hex"},
    UuiCase {"nul_byte", "6800;encoding=hex", false, "", "hex"},
    UuiCase {"invalid_utf8", "c328;encoding=hex", false, "", "hex"},
    UuiCase {"unknown_encoding", "aGVsbG8=;encoding=base64", false, "", "base64"},
    UuiCase {"empty", "", false, "", ""},
    UuiCase {"only_params", ";encoding=hex", false, "", "hex"}
    ), [] (const ::testing::TestParamInfo<UuiCase> &info) {
      return std::string (info.param.name);
    });

}  // namespace
