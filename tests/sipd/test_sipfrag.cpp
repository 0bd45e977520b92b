/* message/sipfrag status lines of REFER NOTIFYs, table-driven. */

#include "sipfrag.h"

#include <gtest/gtest.h>

using namespace voxbridge::sipd;

namespace {

struct SipfragCase {
  const char *name;
  const char *body;
  int status;            /* 0: refused */
  const char *phrase;
};

class SipfragTable : public ::testing::TestWithParam<SipfragCase> {};

TEST_P (SipfragTable, ParsesTheStatusLine)
{
  const SipfragCase &c = GetParam ();
  std::string error;
  auto parsed = parse_sipfrag_status (c.body, &error);
  if (c.status == 0) {
    EXPECT_FALSE (parsed.has_value ()) << "status " << parsed->status;
    EXPECT_FALSE (error.empty ());
    return;
  }
  ASSERT_TRUE (parsed.has_value ()) << error;
  EXPECT_EQ (parsed->status, c.status);
  EXPECT_EQ (parsed->phrase, c.phrase);
}

const SipfragCase kCases[] = {
  {"trying", "SIP/2.0 100 Trying", 100, "Trying"},
  {"trying_crlf", "SIP/2.0 100 Trying\r\n", 100, "Trying"},
  {"ringing_lf", "SIP/2.0 180 Ringing\n", 180, "Ringing"},
  {"ok", "SIP/2.0 200 OK\r\n", 200, "OK"},
  {"ok_with_headers", "SIP/2.0 200 OK\r\nContact: <sip:agent@pbx>\r\n"
      "Content-Length: 0\r\n\r\n", 200, "OK"},
  {"busy", "SIP/2.0 486 Busy Here\r\n", 486, "Busy Here"},
  {"decline", "SIP/2.0 603 Declined", 603, "Declined"},
  {"lower_case_version", "sip/2.0 503 Service Unavailable", 503,
      "Service Unavailable"},
  {"no_phrase", "SIP/2.0 202 ", 202, ""},
  {"empty", "", 0, ""},
  {"blank_line", "\r\nSIP/2.0 200 OK", 0, ""},
  {"request_line", "INVITE sip:agent@pbx SIP/2.0\r\n", 0, ""},
  {"garbage", "hello world", 0, ""},
  {"no_status", "SIP/2.0 OK", 0, ""},
  {"status_too_small", "SIP/2.0 99 Odd", 0, ""},
  {"status_too_large", "SIP/2.0 700 Odd", 0, ""},
  {"status_not_a_number", "SIP/2.0 2x0 OK", 0, ""},
  {"truncated", "SIP/2.", 0, ""},
};

INSTANTIATE_TEST_SUITE_P (Sipfrag, SipfragTable, ::testing::ValuesIn (kCases),
    [] (const ::testing::TestParamInfo<SipfragCase> &info) {
      return std::string (info.param.name);
    });

}  // namespace
