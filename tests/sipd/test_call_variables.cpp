/* INVITE headers -> call variables, and SIP INFO DTMF bodies. Requests are
 * parsed by Sofia's own SIP parser, as in the daemon. */

#include "call_variables.h"
#include "dtmf_info.h"

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <gtest/gtest.h>

#include <string>

using namespace voxbridge::sipd;

namespace {

Variables
variables_of (const std::string &headers)
{
  std::string text = "INVITE sip:+15550100@sipd.example.com;user=phone SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
      "Call-ID: abc-123@192.0.2.1\r\n"
      "CSeq: 1 INVITE\r\n" + headers + "Content-Length: 0\r\n\r\n";
  msg_t *msg = msg_make (sip_default_mclass (), 0, text.data (), text.size ());
  EXPECT_NE (msg, nullptr);
  Variables vars = variables_from_request (sip_object (msg));
  msg_destroy (msg);
  return vars;
}

TEST (CallVariables, AddressesAndIds)
{
  Variables v = variables_of (
      "From: \"Jane Doe\" <sip:+15550199@carrier.example.net>;tag=9\r\n"
      "To: <sip:+15550100@sipd.example.com>\r\n");
  EXPECT_EQ (v["from.user"], "+15550199");
  EXPECT_EQ (v["from.uri"], "sip:+15550199@carrier.example.net");
  EXPECT_EQ (v["from.display"], "Jane Doe");
  EXPECT_EQ (v["to.user"], "+15550100");
  EXPECT_EQ (v.count ("to.display"), 0u);
  EXPECT_EQ (v["request.user"], "+15550100");
  EXPECT_EQ (v["request.uri"], "sip:+15550100@sipd.example.com;user=phone");
  EXPECT_EQ (v["call.sip_id"], "abc-123@192.0.2.1");
  EXPECT_EQ (v.count ("uui"), 0u);
}

TEST (CallVariables, ConnectUserToUserAndChimeXHeaders)
{
  Variables v = variables_of (
      "From: <sip:+15550199@carrier.example.net>;tag=9\r\n"
      "To: <sip:+15550100@sipd.example.com>\r\n"
      "User-to-User: 7b2261223a317d;encoding=hex\r\n"
      "X-VoiceConnector-ID: abcdef\r\n"
      "x-lower: yes\r\n"
      "X-Multi: 1\r\n"
      "X-Multi: 2\r\n"
      "Subject: not a variable\r\n");
  EXPECT_EQ (v["uui"], "{\"a\":1}");
  EXPECT_EQ (v["uui.raw"], "7b2261223a317d;encoding=hex");
  EXPECT_EQ (v["header.X-VoiceConnector-ID"], "abcdef");
  EXPECT_EQ (v["header.x-lower"], "yes");
  EXPECT_EQ (v["header.X-Multi"], "1,2");
  for (const auto &[k, val] : v)
    EXPECT_EQ (k.find ("Subject"), std::string::npos);
}

TEST (CallVariables, MalformedUuiKeepsRawOnly)
{
  Variables v = variables_of (
      "From: <sip:a@example.net>;tag=9\r\nTo: <sip:b@example.com>\r\n"
      "User-to-User: 7b2;encoding=hex\r\n");
  EXPECT_EQ (v.count ("uui"), 0u);
  EXPECT_EQ (v["uui.raw"], "7b2;encoding=hex");
}

TEST (CallVariables, NullRequest)
{
  EXPECT_TRUE (variables_from_request (nullptr).empty ());
}

struct DtmfCase {
  const char *name;
  const char *content_type;
  const char *body;
  char digit;             /* 0 = not DTMF */
  guint duration;
};

class DtmfTable : public ::testing::TestWithParam<DtmfCase> {};

TEST_P (DtmfTable, Parses)
{
  const DtmfCase &c = GetParam ();
  auto info = parse_dtmf_info (c.content_type, c.body);
  if (c.digit == 0) {
    EXPECT_FALSE (info);
    return;
  }
  ASSERT_TRUE (info);
  EXPECT_EQ (info->digit, c.digit);
  EXPECT_EQ (info->duration_ms, c.duration);
}

INSTANTIATE_TEST_SUITE_P (Dtmf, DtmfTable, ::testing::Values (
    DtmfCase {"relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160},
    DtmfCase {"relay_lf_spaces", "application/dtmf-relay; charset=x", "Signal= #\nDuration= 250\n", '#', 250},
    DtmfCase {"relay_event_code", "Application/DTMF-Relay", "Signal=10\r\n", '*', 0},
    DtmfCase {"relay_letter", "application/dtmf-relay", "Signal=d\r\n", 'D', 0},
    DtmfCase {"plain_dtmf", "application/dtmf", "7", '7', 0},
    DtmfCase {"relay_bad_signal", "application/dtmf-relay", "Signal=X\r\n", 0, 0},
    DtmfCase {"relay_no_signal", "application/dtmf-relay", "Duration=100\r\n", 0, 0},
    DtmfCase {"other_type", "application/json", "{}", 0, 0}
    ), [] (const ::testing::TestParamInfo<DtmfCase> &info) {
      return std::string (info.param.name);
    });

}  // namespace
