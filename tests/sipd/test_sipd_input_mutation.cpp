/* Bad input never crashes sipd's parsers: SDP offers and answers, sipfrag
 * status lines, User-to-User values, INFO DTMF bodies and the INVITE headers
 * that become call variables. Each test mutates valid inputs (taken from the
 * table tests) with a fixed seed and checks that the parser either accepts
 * the mutant with a sane result or refuses it with a reason. */

#include "call_variables.h"
#include "dtmf_info.h"
#include "input_mutation.h"
#include "sdp_negotiation.h"
#include "sipfrag.h"
#include "uui.h"

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <glib.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace voxbridge::sipd;
using voxbridge::test::describe_input;
using voxbridge::test::InputMutator;
using voxbridge::test::Mutant;

namespace {

const char *const kSdpOffers[] = {
  /* A Connect / Chime trunk offer. */
  "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
  "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
  /* Video first, audio second, hold by address, session ptime. */
  "v=0\r\no=- 7 2 IN IP4 198.51.100.7\r\ns=call\r\nt=0 0\r\na=ptime:30\r\n"
  "m=video 5002 RTP/AVP 96\r\nc=IN IP4 198.51.100.7\r\na=rtpmap:96 H264/90000\r\n"
  "m=audio 5000 RTP/AVP 8 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n",
  /* IPv6, LF line ends, dynamic G.711. */
  "v=0\no=- 3 3 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n"
  "m=audio 6000 RTP/AVP 97 98\na=rtpmap:97 pcma/8000\na=rtpmap:98 telephone-event/8000\n"
  "a=recvonly\n",
};

/* A mutant the parser accepted must still make sense; one it refused must
 * say why. The answer built from an accepted offer must print and parse. */
void
check_sdp (const std::string &text, const std::string &kind)
{
  SCOPED_TRACE (kind + ": " + describe_input (text));
  std::string error;
  std::optional<SdpDescription> parsed = parse_sdp (text, &error);
  if (!parsed) {
    EXPECT_FALSE (error.empty ());
    return;
  }
  EXPECT_FALSE (parsed->media.empty ());
  for (const Negotiation &n : {negotiate_answer (*parsed, NegotiationPolicy ()),
           read_answer (*parsed, NegotiationPolicy ())}) {
    if (n.status != NegotiationStatus::kOk) {
      EXPECT_FALSE (n.error.empty ());
      continue;
    }
    ASSERT_GE (n.media_index, 0);
    ASSERT_LT (static_cast<size_t> (n.media_index), parsed->media.size ());
    EXPECT_TRUE (g_ascii_strcasecmp (n.codec.name.c_str (), "PCMU") == 0 ||
        g_ascii_strcasecmp (n.codec.name.c_str (), "PCMA") == 0) << n.codec.name;
    EXPECT_GE (n.ptime_ms, 10u);
    EXPECT_LE (n.ptime_ms, 60u);
    EXPECT_NE (n.remote_port, 0u);
    EXPECT_LE (n.remote_port, 65535u);
    EXPECT_FALSE (n.remote_address.empty ());

    LocalDescription answer;
    answer.session_id = 1;
    answer.session_version = 1;
    answer.address = "192.0.2.1";
    answer.media = answer_media_lines (*parsed, n, 40000);
    const std::string printed = print_sdp (answer);
    EXPECT_FALSE (printed.empty ());
    std::string reparse_error;
    EXPECT_TRUE (parse_sdp (printed, &reparse_error)) << reparse_error << "\n" << printed;
  }
}

TEST (SdpMutation, MutatedOffersAreAnsweredOrRefusedWithAReason)
{
  InputMutator mutator (0x5d9u, 150);
  for (const char *offer : kSdpOffers)
    for (const Mutant &m : mutator.mutate (offer))
      check_sdp (m.text, m.kind);
}

TEST (SdpMutation, HostileValuesInEveryField)
{
  /* Each field of the offer replaced by each hostile value. */
  const std::vector<std::string> lines = {"v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-",
      "c=IN IP4 192.0.2.10", "t=0 0", "m=audio 4000 RTP/AVP 0 101",
      "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=ptime:20"};
  for (size_t i = 0; i < lines.size (); i++) {
    const size_t eq = lines[i].find ('=');
    for (const std::string &value : InputMutator::hostile_values ()) {
      std::string sdp;
      for (size_t j = 0; j < lines.size (); j++)
        sdp += (j == i ? lines[j].substr (0, eq + 1) + value : lines[j]) + "\r\n";
      check_sdp (sdp, "line " + std::to_string (i) + " value replaced");
    }
  }
}

struct BrokenOffer {
  const char *name;
  std::string sdp;
  bool parses;                  /* false: 400 malformed SDP; true: 488 */
};

class BrokenSdpOffer : public ::testing::TestWithParam<BrokenOffer> {};

/* The offers a trunk really sends wrong: each is refused with a reason, the
 * way the daemon answers 400 or 488. */
TEST_P (BrokenSdpOffer, IsRefusedWithAReason)
{
  const BrokenOffer &c = GetParam ();
  std::string error;
  auto parsed = parse_sdp (c.sdp, &error);
  if (!c.parses) {
    EXPECT_FALSE (parsed.has_value ());
    EXPECT_FALSE (error.empty ());
    return;
  }
  ASSERT_TRUE (parsed.has_value ()) << error;
  Negotiation n = negotiate_answer (*parsed, NegotiationPolicy ());
  EXPECT_NE (n.status, NegotiationStatus::kOk);
  EXPECT_FALSE (n.error.empty ());
}

const std::string kHead = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\n";

const BrokenOffer kBrokenOffers[] = {
  {"no_m_line", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n", false},
  {"no_c_line", kHead + "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", false},
  {"c_line_garbage", kHead + "c=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", false},
  {"c_line_wrong_nettype", kHead + "c=XX IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
      false},
  {"port_0", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", true},
  {"port_too_big", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
      false},
  {"unknown_payload_only", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 125\r\n", true},
  {"telephone_event_only", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", true},
  {"pcmu_at_16k", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n", true},
  {"srtp_only", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n", true},
  {"video_only", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n", true},
  /* Sofia's sdp_parse allocated without end on these (regression). */
  {"utf8_in_proto", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RT\xc3\xa9P/AVP 0\r\n", false},
  {"invalid_utf8_in_proto", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RT\xf4\x90\x80\x80P/AVP 0 8 101\r\n", false},
  {"control_byte_in_proto", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 4000 RT\x17P/AVP 0\r\n", false},
  {"nul_in_c_line", kHead + std::string ("c=IN IP4 192.0.2.10\0\r\nt=0 0\r\n", 27) +
      "m=audio 4000 RTP/AVP 0\r\n", false},
  {"port_negative", kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio -1 RTP/AVP 0\r\n",
      false},
  {"empty", "", false},
  {"not_sdp", "hello world\r\n", false},
};

INSTANTIATE_TEST_SUITE_P (Sdp, BrokenSdpOffer, ::testing::ValuesIn (kBrokenOffers),
    [] (const ::testing::TestParamInfo<BrokenOffer> &info) { return info.param.name; });

TEST (SdpMutation, HugePtimeFallsBackToTheDefault)
{
  for (const char *ptime : {"0", "5", "25", "70", "1000", "1001", "4294967296", "-20",
           "99999999999999999999", "abc"}) {
    std::string sdp = kHead + "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        "a=ptime:" + ptime + "\r\n";
    auto parsed = parse_sdp (sdp);
    ASSERT_TRUE (parsed) << ptime;
    Negotiation n = negotiate_answer (*parsed, NegotiationPolicy ());
    ASSERT_EQ (n.status, NegotiationStatus::kOk) << ptime;
    EXPECT_EQ (n.ptime_ms, 20u) << ptime;
  }
}

/* An offered line we reject whose payload type has no a=rtpmap and no
 * static name is answered by number, so the answer stays valid SDP. */
TEST (SdpMutation, RejectedLineWithUnnamedPayloadGivesAParsableAnswer)
{
  auto offer = parse_sdp (kHead + "t=0 0\r\nm=video 5002 RTP/AVP 96\r\n"
      "c=IN IP4 192.0.2.10\r\nm=audio 5000 RTP/AVP 8\r\nc=IN IP4 192.0.2.10\r\n");
  ASSERT_TRUE (offer);
  Negotiation n = negotiate_answer (*offer, NegotiationPolicy ());
  ASSERT_EQ (n.status, NegotiationStatus::kOk) << n.error;
  LocalDescription answer;
  answer.address = "192.0.2.1";
  answer.media = answer_media_lines (*offer, n, 40000);
  const std::string printed = print_sdp (answer);
  EXPECT_NE (printed.find ("m=video 0 RTP/AVP 96"), std::string::npos) << printed;
  EXPECT_EQ (printed.find ("a=rtpmap:96"), std::string::npos) << printed;
  std::string error;
  EXPECT_TRUE (parse_sdp (printed, &error)) << error << "\n" << printed;
}

/* RFC 4566 lets the o= username be any non-whitespace bytes. */
TEST (SdpMutation, Utf8UsernameInTheOriginIsAccepted)
{
  std::string error;
  EXPECT_TRUE (parse_sdp ("v=0\r\no=J\xc3\xa9r\xc3\xb4me 1 1 IN IP4 192.0.2.10\r\ns=-\r\n"
      "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", &error)) << error;
}

TEST (SdpMutation, EmptyViewWithoutData)
{
  std::string error;
  EXPECT_FALSE (parse_sdp (std::string_view (), &error));
  EXPECT_FALSE (error.empty ());
}

/* ------------------------------------------------------------------------ */

TEST (SipfragMutation, MutatedStatusLinesGiveAStatusOrAReason)
{
  InputMutator mutator (0xf7a9u);
  for (const char *valid : {"SIP/2.0 200 OK\r\nContact: <sip:agent@pbx>\r\n"
           "Content-Length: 0\r\n\r\n", "SIP/2.0 486 Busy Here", "SIP/2.0 100 Trying\r\n"}) {
    for (const Mutant &m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      std::string error;
      auto status = parse_sipfrag_status (m.text, &error);
      if (status) {
        EXPECT_GE (status->status, 100);
        EXPECT_LE (status->status, 699);
      } else {
        EXPECT_FALSE (error.empty ());
      }
    }
  }
}

/* ------------------------------------------------------------------------ */

TEST (UuiMutation, MutatedValuesGiveTextOrAReason)
{
  InputMutator mutator (0x0771u);
  for (const char *valid : {"48656c6c6f;encoding=hex;purpose=isdn-uui;content=isdn-uui",
           "\"48656c6c6f\" ; encoding=hex", "hello-world", "00ff;purpose=isdn-uui"}) {
    for (const Mutant &m : mutator.mutate (valid)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      UserToUser uui = decode_user_to_user (m.text);
      EXPECT_EQ (uui.raw, m.text);
      if (uui.text) {
        EXPECT_TRUE (g_utf8_validate (uui.text->data (),
            static_cast<gssize> (uui.text->size ()), nullptr));
        EXPECT_EQ (uui.text->find ('\0'), std::string::npos);
      } else {
        EXPECT_FALSE (uui.error.empty ());
      }
    }
  }
}

/* ------------------------------------------------------------------------ */

TEST (DtmfInfoMutation, MutatedBodiesGiveAKeyOrNothing)
{
  InputMutator mutator (0xd7f0u);
  const std::pair<const char *, const char *> valid[] = {
    {"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"},
    {"application/dtmf-relay; charset=utf-8", "Signal= #\nDuration= 250\n"},
    {"application/dtmf", "7"},
  };
  for (const auto &[type, body] : valid) {
    for (const Mutant &m : mutator.mutate (body)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      auto dtmf = parse_dtmf_info (type, m.text);
      if (dtmf) {
        EXPECT_NE (std::string ("0123456789*#ABCD").find (dtmf->digit), std::string::npos)
            << dtmf->digit;
      }
    }
    for (const Mutant &m : mutator.mutate (type)) {
      SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
      auto dtmf = parse_dtmf_info (m.text, body);
      if (dtmf) {
        EXPECT_NE (std::string ("0123456789*#ABCD").find (dtmf->digit), std::string::npos);
      }
    }
  }
}

/* ------------------------------------------------------------------------ */

const char kInvite[] =
    "INVITE sip:+15550100@sipd.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
    "From: \"Jane Doe\" <sip:+15550199@carrier.example.net>;tag=9\r\n"
    "To: <sip:+15550100@sipd.example.com>\r\n"
    "Call-ID: abc-123@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "User-to-User: 48656c6c6f;encoding=hex\r\n"
    "X-Amzn-ConnectContactId: 5b6a0c7e-1111-2222-3333-444455556666\r\n"
    "X-Amzn-ConnectContactId: second\r\n"
    "Content-Length: 0\r\n\r\n";

/* Sofia parses the mutant as the daemon's transport would; whatever it
 * accepts, the variables are read without crashing and every value is a
 * string the launcher can render. */
TEST (CallVariablesMutation, MutatedInvitesGiveVariablesOrAreRejectedBySofia)
{
  InputMutator mutator (0xca11u, 120);
  size_t parsed = 0;
  for (const Mutant &m : mutator.mutate (kInvite)) {
    SCOPED_TRACE (m.kind + ": " + describe_input (m.text));
    msg_t *msg = msg_make (sip_default_mclass (), 0, m.text.data (), m.text.size ());
    if (msg == nullptr)
      continue;
    sip_t *sip = sip_object (msg);
    if (sip != nullptr && sip->sip_request != nullptr) {
      parsed++;
      Variables vars = variables_from_request (sip);
      for (const auto &[name, value] : vars)
        EXPECT_FALSE (name.empty ());
    }
    msg_destroy (msg);
  }
  EXPECT_GT (parsed, 0u);
}

}  // namespace
