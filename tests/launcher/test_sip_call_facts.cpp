/* The SIP address helpers of the daemon's call facts. */

#include <gtest/gtest.h>

#include "sip_call_facts.h"

using voxbridge::launcher::sip_uri_user;

namespace {

struct UserCase {
  const char *address;
  const char *user;
};

class SipUriUser : public ::testing::TestWithParam<UserCase> {};

TEST_P (SipUriUser, IsThePartBeforeTheAt)
{
  EXPECT_EQ (sip_uri_user (GetParam ().address), GetParam ().user);
}

INSTANTIATE_TEST_SUITE_P (Table, SipUriUser, ::testing::Values (
    UserCase {"sip:+15550100@127.0.0.1:5060", "+15550100"},
    UserCase {"sips:alice@example.com;transport=tls", "alice"},
    UserCase {"<sip:voxbridge@127.0.0.1>", "voxbridge"},
    UserCase {"\"Voxbridge\" <sip:+15550199@pbx.example.com>;tag=1", "+15550199"},
    UserCase {"sip:example.com", ""},
    UserCase {"", ""},
    UserCase {"@", ""},
    UserCase {"<sip:unterminated@host", "unterminated"},  /* lenient */
    UserCase {"user@host", ""}));

}  // namespace
