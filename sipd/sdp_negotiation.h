#pragma once
/* SDP offer/answer for one G.711 audio stream (RFC 3264), as free functions:
 * parse a remote description (Sofia's sdp_parse), pick what to answer, and
 * print a local description (Sofia's sdp_print). No SIP, no sockets, so the
 * rules are tested with tables. */

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace voxbridge::sipd {

/* The direction attribute of a media line, from the point of view of the
 * side that wrote it. */
enum class MediaDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive };

const char *media_direction_to_string (MediaDirection direction);

/* What the other side means by "I send" is "we receive", and so on. */
MediaDirection reverse_direction (MediaDirection direction);

struct SdpCodec {
  int payload_type = -1;
  std::string name;           /* encoding name as written, e.g. "PCMU" */
  unsigned clock_rate = 8000;
  std::string fmtp;           /* a=fmtp value, may be empty */
};

/* One m= line of a parsed description. */
struct SdpMediaLine {
  std::string media;                 /* "audio", "video", ... */
  std::string proto;                 /* "RTP/AVP", "RTP/SAVP", ... */
  unsigned port = 0;
  std::vector<std::string> formats;  /* the m= line's format list as written */
  std::vector<SdpCodec> codecs;      /* RTP payload types in offer order */
  std::string connection_address;    /* media c=, else the session c= */
  unsigned ptime_ms = 0;             /* a=ptime, 0 when absent */
  MediaDirection direction = MediaDirection::kSendRecv;
};

struct SdpDescription {
  std::string origin_address;
  std::vector<SdpMediaLine> media;
};

/* Parses @text. On failure returns nullopt and puts a one-line reason in
 * @error (when not null). */
std::optional<SdpDescription> parse_sdp (std::string_view text,
    std::string *error = nullptr);

/* True for the RFC 2543 way of putting a call on hold: c=0.0.0.0. */
bool is_hold_address (const std::string &address);

enum class NegotiationStatus {
  kOk,
  kNoAudio,          /* no usable RTP/AVP audio line */
  kNoCommonCodec,    /* audio offered, none of our codecs in it */
};

/* The outcome of answering an offer (or of reading the answer to our offer). */
struct Negotiation {
  NegotiationStatus status = NegotiationStatus::kNoAudio;
  std::string error;               /* why, when status != kOk */
  int media_index = -1;            /* which m= line carries the call */
  SdpCodec codec;                  /* the one audio codec */
  SdpCodec dtmf;                   /* telephone-event, payload_type -1 if none */
  unsigned ptime_ms = 20;
  std::string remote_address;
  unsigned remote_port = 0;
  MediaDirection local_direction = MediaDirection::kSendRecv;  /* ours */
  bool send = true;                /* we may send RTP to the remote */
  bool receive = true;             /* the remote will send RTP to us */
};

struct NegotiationPolicy {
  /* Encoding names we can carry, case-insensitive ("PCMU", "PCMA"). */
  std::vector<std::string> codecs = {"PCMU", "PCMA"};
  /* When the offer contains this codec, keep it (a re-INVITE must not
   * switch codecs under a running graph); empty = take the offer's first. */
  std::string keep_codec;
  unsigned default_ptime_ms = 20;
};

/* Chooses the answer to @offer: the first codec of the caller's list that we
 * support, telephone-event at the same clock rate if offered, the caller's
 * ptime when sane, and the mirrored direction (hold detection included). */
Negotiation negotiate_answer (const SdpDescription &offer,
    const NegotiationPolicy &policy);

/* Reads the answer to an offer we made from @policy.codecs: same rules
 * (the answer's first supported codec wins). */
Negotiation read_answer (const SdpDescription &answer,
    const NegotiationPolicy &policy);

/* One m= line of a description we write. */
struct LocalMediaLine {
  std::string media = "audio";
  std::string proto = "RTP/AVP";
  unsigned port = 0;                /* 0 = rejected line */
  std::vector<SdpCodec> codecs;     /* for RTP lines */
  std::vector<std::string> formats; /* for rejected non-RTP lines */
  unsigned ptime_ms = 0;
  MediaDirection direction = MediaDirection::kSendRecv;
};

struct LocalDescription {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string address;              /* o= and c= address (IPv4 or IPv6) */
  std::vector<LocalMediaLine> media;
};

/* Prints @description with Sofia's SDP printer. Empty string on failure. */
std::string print_sdp (const LocalDescription &description);

/* The m= lines of our answer: the negotiated line carries our @port and the
 * chosen codec (+ telephone-event); every other offered line is rejected
 * with port 0, as RFC 3264 wants one answer line per offered line. */
std::vector<LocalMediaLine> answer_media_lines (const SdpDescription &offer,
    const Negotiation &negotiation, unsigned port);

/* Our offer (dial-out, INVITE without SDP, re-INVITE without SDP): every
 * codec of @policy with its static payload type and telephone-event. */
LocalMediaLine offer_media_line (const NegotiationPolicy &policy,
    unsigned port, int dtmf_payload_type, MediaDirection direction);

/* The static payload type of a G.711 codec name, -1 for others. */
int static_payload_type (std::string_view name);

}  // namespace voxbridge::sipd
