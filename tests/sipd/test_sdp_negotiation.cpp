/* SDP offer/answer rules, table-driven. */

#include "sdp_negotiation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace voxbridge::sipd;

namespace {

/* An offer with one audio line: @m is the m= line's payload list, @attrs the
 * media attributes (one per line). */
std::string
offer (const std::string &m, const std::vector<std::string> &attrs,
    const std::string &c = "192.0.2.10", const std::string &session_attrs = "")
{
  std::string sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 " + c +
      "\r\nt=0 0\r\n" + session_attrs + "m=audio 4000 RTP/AVP " + m + "\r\n";
  for (const std::string &a : attrs)
    sdp += "a=" + a + "\r\n";
  return sdp;
}

struct AnswerCase {
  const char *name;
  std::string sdp;
  NegotiationStatus status;
  const char *codec;        /* expected codec name */
  int pt;
  int dtmf_pt;
  unsigned ptime;
  MediaDirection local_direction;
  bool send;
  bool receive;
};

class AnswerTable : public ::testing::TestWithParam<AnswerCase> {};

TEST_P (AnswerTable, Negotiates)
{
  const AnswerCase &c = GetParam ();
  std::string error;
  auto parsed = parse_sdp (c.sdp, &error);
  ASSERT_TRUE (parsed) << error;
  Negotiation n = negotiate_answer (*parsed, NegotiationPolicy ());
  ASSERT_EQ (n.status, c.status) << n.error;
  if (c.status != NegotiationStatus::kOk) {
    EXPECT_FALSE (n.error.empty ());
    return;
  }
  EXPECT_EQ (n.codec.name, c.codec);
  EXPECT_EQ (n.codec.payload_type, c.pt);
  EXPECT_EQ (n.dtmf.payload_type, c.dtmf_pt);
  EXPECT_EQ (n.ptime_ms, c.ptime);
  EXPECT_EQ (n.local_direction, c.local_direction);
  EXPECT_EQ (n.send, c.send);
  EXPECT_EQ (n.receive, c.receive);
  EXPECT_EQ (n.remote_port, 4000u);
}

using D = MediaDirection;
using S = NegotiationStatus;

INSTANTIATE_TEST_SUITE_P (Sdp, AnswerTable, ::testing::Values (
    AnswerCase {"pcmu_first", offer ("0 8 101", {"rtpmap:0 PCMU/8000",
        "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000",
        "fmtp:101 0-16"}), S::kOk, "PCMU", 0, 101, 20, D::kSendRecv, true, true},
    AnswerCase {"pcma_first", offer ("8 0", {}), S::kOk, "PCMA", 8, -1, 20,
        D::kSendRecv, true, true},
    AnswerCase {"static_without_rtpmap", offer ("0", {}), S::kOk, "PCMU", 0,
        -1, 20, D::kSendRecv, true, true},
    AnswerCase {"skip_unsupported_first", offer ("18 9 8 0", {
        "rtpmap:18 G729/8000", "rtpmap:9 G722/8000"}), S::kOk, "PCMA", 8, -1,
        20, D::kSendRecv, true, true},
    AnswerCase {"dynamic_telephone_event", offer ("0 96", {
        "rtpmap:96 telephone-event/8000"}), S::kOk, "PCMU", 0, 96, 20,
        D::kSendRecv, true, true},
    AnswerCase {"telephone_event_wrong_rate_ignored", offer ("0 97", {
        "rtpmap:97 telephone-event/48000"}), S::kOk, "PCMU", 0, -1, 20,
        D::kSendRecv, true, true},
    AnswerCase {"telephone_event_8k_of_two", offer ("0 100 101", {
        "rtpmap:100 telephone-event/16000", "rtpmap:101 telephone-event/8000"}),
        S::kOk, "PCMU", 0, 101, 20, D::kSendRecv, true, true},
    AnswerCase {"ptime_30", offer ("0", {"ptime:30"}), S::kOk, "PCMU", 0, -1,
        30, D::kSendRecv, true, true},
    AnswerCase {"ptime_session_level", offer ("0", {}, "192.0.2.10",
        "a=ptime:40\r\n"), S::kOk, "PCMU", 0, -1, 40, D::kSendRecv, true, true},
    AnswerCase {"ptime_odd_ignored", offer ("0", {"ptime:25"}), S::kOk, "PCMU",
        0, -1, 20, D::kSendRecv, true, true},
    AnswerCase {"hold_sendonly", offer ("0", {"sendonly"}), S::kOk, "PCMU", 0,
        -1, 20, D::kRecvOnly, false, true},
    AnswerCase {"recvonly", offer ("0", {"recvonly"}), S::kOk, "PCMU", 0, -1,
        20, D::kSendOnly, true, false},
    AnswerCase {"inactive", offer ("0", {"inactive"}), S::kOk, "PCMU", 0, -1,
        20, D::kInactive, false, false},
    AnswerCase {"hold_0000", offer ("0", {}, "0.0.0.0"), S::kOk, "PCMU", 0, -1,
        20, D::kRecvOnly, false, true},
    AnswerCase {"hold_session_level_sendonly", offer ("0", {}, "192.0.2.10",
        "a=sendonly\r\n"), S::kOk, "PCMU", 0, -1, 20, D::kRecvOnly, false, true},
    AnswerCase {"g729_only", offer ("18", {"rtpmap:18 G729/8000"}),
        S::kNoCommonCodec, "", 0, 0, 0, D::kSendRecv, false, false},
    AnswerCase {"telephone_event_only", offer ("101", {
        "rtpmap:101 telephone-event/8000"}), S::kNoCommonCodec, "", 0, 0, 0,
        D::kSendRecv, false, false},
    AnswerCase {"pcmu_at_16k_is_not_g711", offer ("96", {"rtpmap:96 PCMU/16000"}),
        S::kNoCommonCodec, "", 0, 0, 0, D::kSendRecv, false, false}
    ), [] (const ::testing::TestParamInfo<AnswerCase> &info) {
      return std::string (info.param.name);
    });

TEST (Sdp, DynamicPcmuPayloadTypeIsKept)
{
  auto parsed = parse_sdp (offer ("110 0", {"rtpmap:110 PCMU/8000"}));
  ASSERT_TRUE (parsed);
  Negotiation n = negotiate_answer (*parsed, NegotiationPolicy ());
  ASSERT_EQ (n.status, S::kOk);
  EXPECT_EQ (n.codec.payload_type, 110);
}

TEST (Sdp, ConfiguredCodecsLimitTheChoice)
{
  auto parsed = parse_sdp (offer ("0 8", {}));
  ASSERT_TRUE (parsed);
  NegotiationPolicy alaw_only;
  alaw_only.codecs = {"PCMA"};
  EXPECT_EQ (negotiate_answer (*parsed, alaw_only).codec.name, "PCMA");
}

TEST (Sdp, ReofferKeepsTheCodecInUse)
{
  auto parsed = parse_sdp (offer ("0 8", {}));
  ASSERT_TRUE (parsed);
  NegotiationPolicy keep;
  keep.keep_codec = "PCMA";
  EXPECT_EQ (negotiate_answer (*parsed, keep).codec.name, "PCMA");
  keep.keep_codec = "G729";  /* not offered any more: first one wins */
  EXPECT_EQ (negotiate_answer (*parsed, keep).codec.name, "PCMU");
}

TEST (Sdp, NoAudioLine)
{
  auto parsed = parse_sdp ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n"
      "a=rtpmap:96 H264/90000\r\n");
  ASSERT_TRUE (parsed);
  EXPECT_EQ (negotiate_answer (*parsed, NegotiationPolicy ()).status,
      S::kNoAudio);
}

TEST (Sdp, SrtpOnlyIsNotUsableYet)
{
  auto parsed = parse_sdp ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/SAVP 0\r\n");
  ASSERT_TRUE (parsed);
  EXPECT_EQ (negotiate_answer (*parsed, NegotiationPolicy ()).status,
      S::kNoAudio);
}

TEST (Sdp, MalformedIsAnErrorNotACrash)
{
  const char *bad[] = {
    "",
    "garbage",
    "v=0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "m=audio notaport RTP/AVP 0\r\n",
    "this is not SDP\r\nm=audio\r\n",
  };
  for (const char *text : bad) {
    std::string error;
    EXPECT_FALSE (parse_sdp (text, &error)) << text;
    EXPECT_FALSE (error.empty ()) << text;
  }
}

TEST (Sdp, AnswerMirrorsEveryOfferedLine)
{
  auto parsed = parse_sdp ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
      "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
      "m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=ptime:20\r\na=sendonly\r\n");
  ASSERT_TRUE (parsed);
  Negotiation n = negotiate_answer (*parsed, NegotiationPolicy ());
  ASSERT_EQ (n.status, S::kOk);
  EXPECT_EQ (n.media_index, 1);

  LocalDescription answer;
  answer.session_id = 77;
  answer.session_version = 3;
  answer.address = "198.51.100.5";
  answer.media = answer_media_lines (*parsed, n, 30000);
  std::string text = print_sdp (answer);
  EXPECT_NE (text.find ("o=- 77 3 IN IP4 198.51.100.5\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("c=IN IP4 198.51.100.5\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("m=video 0 RTP/AVP 96\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("m=audio 30000 RTP/AVP 8 101\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=rtpmap:8 PCMA/8000\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=recvonly\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=ptime:20\r\n"), std::string::npos) << text;

  /* Our own answer parses back to what we meant. */
  auto back = parse_sdp (text);
  ASSERT_TRUE (back);
  ASSERT_EQ (back->media.size (), 2u);
  EXPECT_EQ (back->media[0].port, 0u);
  EXPECT_EQ (back->media[1].direction, MediaDirection::kRecvOnly);
  ASSERT_EQ (back->media[1].codecs.size (), 2u);
  EXPECT_EQ (back->media[1].codecs[0].name, "PCMA");
}

TEST (Sdp, OfferListsCodecsAndTelephoneEvent)
{
  NegotiationPolicy policy;
  LocalDescription offer_description;
  offer_description.address = "2001:db8::5";
  offer_description.media = {offer_media_line (policy, 30002, 101,
      MediaDirection::kSendRecv)};
  std::string text = print_sdp (offer_description);
  EXPECT_NE (text.find ("c=IN IP6 2001:db8::5\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("m=audio 30002 RTP/AVP 0 8 101\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=fmtp:101 0-16\r\n"), std::string::npos) << text;
  EXPECT_NE (text.find ("a=sendrecv\r\n"), std::string::npos) << text;

  /* And the answer to it (PCMA chosen by the far end) reads back. */
  auto answer = parse_sdp (::offer ("8 101", {"rtpmap:101 telephone-event/8000"}));
  ASSERT_TRUE (answer);
  Negotiation n = read_answer (*answer, policy);
  EXPECT_EQ (n.status, S::kOk);
  EXPECT_EQ (n.codec.name, "PCMA");
  EXPECT_EQ (n.dtmf.payload_type, 101);
}

TEST (Sdp, DirectionHelpers)
{
  EXPECT_EQ (reverse_direction (D::kSendOnly), D::kRecvOnly);
  EXPECT_EQ (reverse_direction (D::kRecvOnly), D::kSendOnly);
  EXPECT_EQ (reverse_direction (D::kInactive), D::kInactive);
  EXPECT_STREQ (media_direction_to_string (D::kSendRecv), "sendrecv");
  EXPECT_TRUE (is_hold_address ("0.0.0.0"));
  EXPECT_FALSE (is_hold_address ("192.0.2.1"));
}

}  // namespace
