/* SDP offer/answer for one G.711 audio stream: see sdp_negotiation.h. */

#include "sdp_negotiation.h"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include <glib.h>

#include <algorithm>
#include <memory>
#include <type_traits>

namespace voxbridge::sipd {

namespace {

/* A Sofia memory home for one parse or print; everything it allocated goes
 * with it. */
struct HomeDeleter {
  void operator() (su_home_t *home) const { su_home_unref (home); }
};
using Home = std::unique_ptr<su_home_t, HomeDeleter>;

Home
make_home ()
{
  return Home (static_cast<su_home_t *> (su_home_new (sizeof (su_home_t))));
}

bool
equal_nocase (std::string_view a, std::string_view b)
{
  return a.size () == b.size () &&
      g_ascii_strncasecmp (a.data (), b.data (), a.size ()) == 0;
}

MediaDirection
direction_from_mode (unsigned mode)
{
  switch (mode) {
    case sdp_sendonly: return MediaDirection::kSendOnly;
    case sdp_recvonly: return MediaDirection::kRecvOnly;
    case sdp_inactive: return MediaDirection::kInactive;
    default: return MediaDirection::kSendRecv;
  }
}

unsigned
mode_from_direction (MediaDirection direction)
{
  switch (direction) {
    case MediaDirection::kSendOnly: return sdp_sendonly;
    case MediaDirection::kRecvOnly: return sdp_recvonly;
    case MediaDirection::kInactive: return sdp_inactive;
    case MediaDirection::kSendRecv: break;
  }
  return sdp_sendrecv;
}

/* Encoding names of the static payload types (RFC 3551 table 4) a trunk
 * may offer without an a=rtpmap line. */
const char *
static_encoding_name (int pt)
{
  switch (pt) {
    case 0: return "PCMU";
    case 3: return "GSM";
    case 4: return "G723";
    case 8: return "PCMA";
    case 9: return "G722";
    case 13: return "CN";
    case 18: return "G729";
    default: return nullptr;
  }
}

unsigned
parse_ptime (const sdp_attribute_t *attributes)
{
  const sdp_attribute_t *a = sdp_attribute_find (attributes, "ptime");
  if (a == nullptr || a->a_value == nullptr)
    return 0;
  guint64 value = 0;
  if (!g_ascii_string_to_unsigned (a->a_value, 10, 1, 1000, &value, nullptr))
    return 0;
  return static_cast<unsigned> (value);
}

std::vector<SdpCodec>
media_codecs (const sdp_media_t *m)
{
  std::vector<SdpCodec> codecs;
  for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm != nullptr; rm = rm->rm_next) {
    SdpCodec codec;
    codec.payload_type = rm->rm_pt;
    if (rm->rm_encoding != nullptr && rm->rm_encoding[0] != '\0')
      codec.name = rm->rm_encoding;
    else if (const char *name = static_encoding_name (rm->rm_pt))
      codec.name = name;
    codec.clock_rate = rm->rm_rate != 0 ? rm->rm_rate : 8000;
    if (rm->rm_fmtp != nullptr)
      codec.fmtp = rm->rm_fmtp;
    codecs.push_back (std::move (codec));
  }
  return codecs;
}

bool
is_rtp_audio (const SdpMediaLine &line)
{
  return line.media == "audio" && line.proto == "RTP/AVP" && line.port != 0;
}

/* Shared by negotiate_answer and read_answer: the remote wrote @remote_line,
 * we pick the codec and telephone-event from it. */
Negotiation
choose (const SdpDescription &description, const NegotiationPolicy &policy)
{
  Negotiation result;
  for (size_t i = 0; i < description.media.size (); i++) {
    if (is_rtp_audio (description.media[i])) {
      result.media_index = static_cast<int> (i);
      break;
    }
  }
  if (result.media_index < 0) {
    result.status = NegotiationStatus::kNoAudio;
    result.error = "no RTP/AVP audio stream offered";
    return result;
  }

  const SdpMediaLine &line = description.media[result.media_index];
  auto supported = [&policy] (const SdpCodec &c) {
    return std::any_of (policy.codecs.begin (), policy.codecs.end (),
        [&c] (const std::string &name) { return equal_nocase (name, c.name); }) &&
        c.clock_rate == 8000;
  };

  const SdpCodec *chosen = nullptr;
  if (!policy.keep_codec.empty ()) {
    for (const SdpCodec &c : line.codecs)
      if (supported (c) && equal_nocase (c.name, policy.keep_codec)) {
        chosen = &c;
        break;
      }
  }
  if (chosen == nullptr) {
    for (const SdpCodec &c : line.codecs)
      if (supported (c)) {
        chosen = &c;
        break;
      }
  }
  if (chosen == nullptr) {
    result.status = NegotiationStatus::kNoCommonCodec;
    std::string offered;
    for (const SdpCodec &c : line.codecs)
      offered += (offered.empty () ? "" : " ") +
          (c.name.empty () ? std::to_string (c.payload_type) : c.name);
    result.error = "no common codec (offered: " + offered + ")";
    return result;
  }
  result.codec = *chosen;

  for (const SdpCodec &c : line.codecs) {
    if (equal_nocase (c.name, "telephone-event") &&
        c.clock_rate == chosen->clock_rate) {
      result.dtmf = c;
      break;
    }
  }

  /* G.711 packetisation: take what the caller asks for when it is a sane
   * multiple of 10 ms, else the default. */
  if (line.ptime_ms >= 10 && line.ptime_ms <= 60 && line.ptime_ms % 10 == 0)
    result.ptime_ms = line.ptime_ms;
  else
    result.ptime_ms = policy.default_ptime_ms;

  result.remote_address = line.connection_address;
  result.remote_port = line.port;
  MediaDirection remote = line.direction;
  result.send = (remote == MediaDirection::kSendRecv ||
      remote == MediaDirection::kRecvOnly) &&
      !is_hold_address (line.connection_address);
  result.receive = remote == MediaDirection::kSendRecv ||
      remote == MediaDirection::kSendOnly;
  if (result.send && result.receive)
    result.local_direction = MediaDirection::kSendRecv;
  else if (result.send)
    result.local_direction = MediaDirection::kSendOnly;
  else if (result.receive)
    result.local_direction = MediaDirection::kRecvOnly;
  else
    result.local_direction = MediaDirection::kInactive;
  result.status = NegotiationStatus::kOk;
  return result;
}

/* Sofia's sdp_parse loops forever, allocating until memory runs out, on
 * some bytes outside the token characters in an m= line (e.g. UTF-8 "é" or
 * 0x17 inside "RTP/AVP"). The lines that carry the structure of the
 * description (RFC 4566: v o c t m b r z k) hold only ASCII tokens, numbers
 * and addresses, so anything else there is refused before Sofia sees it —
 * except the o= username, which RFC 4566 lets be any non-whitespace bytes;
 * free text lines (s i u e p a) may hold UTF-8 and are left to Sofia. */
bool
check_structural_lines (std::string_view text, std::string *error)
{
  if (text.find ('\0') != std::string_view::npos) {
    *error = "NUL byte in SDP";
    return false;
  }
  size_t number = 0;
  while (!text.empty ()) {
    number++;
    const size_t eol = text.find ('\n');
    std::string_view line = text.substr (0, eol);
    text = eol == std::string_view::npos ? std::string_view () : text.substr (eol + 1);
    if (!line.empty () && line.back () == '\r')
      line.remove_suffix (1);
    if (line.empty () || std::string_view ("voctmbrzk").find (line[0]) == std::string_view::npos)
      continue;
    for (char c : line) {
      const unsigned char u = static_cast<unsigned char> (c);
      if ((u < 0x20 && u != '\t') || u == 0x7f || (u > 0x7f && line[0] != 'o')) {
        gchar *hex = g_strdup_printf ("0x%02x", u);
        *error = std::string ("invalid byte ") + hex + " in the " + line[0] +
            "= line (line " + std::to_string (number) + ")";
        g_free (hex);
        return false;
      }
    }
  }
  return true;
}

}  // namespace

const char *
media_direction_to_string (MediaDirection direction)
{
  switch (direction) {
    case MediaDirection::kSendOnly: return "sendonly";
    case MediaDirection::kRecvOnly: return "recvonly";
    case MediaDirection::kInactive: return "inactive";
    case MediaDirection::kSendRecv: break;
  }
  return "sendrecv";
}

MediaDirection
reverse_direction (MediaDirection direction)
{
  switch (direction) {
    case MediaDirection::kSendOnly: return MediaDirection::kRecvOnly;
    case MediaDirection::kRecvOnly: return MediaDirection::kSendOnly;
    default: return direction;
  }
}

bool
is_hold_address (const std::string &address)
{
  return address == "0.0.0.0";
}

int
static_payload_type (std::string_view name)
{
  if (equal_nocase (name, "PCMU"))
    return 0;
  if (equal_nocase (name, "PCMA"))
    return 8;
  return -1;
}

std::optional<SdpDescription>
parse_sdp (std::string_view text, std::string *error)
{
  std::string why;
  if (!check_structural_lines (text, &why)) {
    if (error != nullptr)
      *error = why;
    return std::nullopt;
  }
  if (text.empty ()) {
    /* sdp_parse would memcpy from a null pointer for an empty view. */
    if (error != nullptr)
      *error = "empty SDP";
    return std::nullopt;
  }

  Home home = make_home ();
  sdp_parser_t *parser = sdp_parse (home.get (), text.data (),
      static_cast<issize_t> (text.size ()), 0);
  const sdp_session_t *session = sdp_session (parser);
  if (session == nullptr) {
    if (error != nullptr) {
      const char *why = sdp_parsing_error (parser);
      *error = why != nullptr ? why : "unparsable SDP";
    }
    sdp_parser_free (parser);
    return std::nullopt;
  }

  SdpDescription description;
  if (session->sdp_origin != nullptr && session->sdp_origin->o_address &&
      session->sdp_origin->o_address->c_address)
    description.origin_address = session->sdp_origin->o_address->c_address;

  const unsigned session_ptime = parse_ptime (session->sdp_attributes);
  for (const sdp_media_t *m = session->sdp_media; m != nullptr; m = m->m_next) {
    SdpMediaLine line;
    line.media = m->m_type_name != nullptr ? m->m_type_name : "";
    line.proto = m->m_proto_name != nullptr ? m->m_proto_name : "";
    /* Sofia reads the port with strtoul: "-1" and 70000 get through, and
     * would wrap to some other port once narrowed to 16 bits. */
    if (m->m_port > 65535) {
      if (error != nullptr)
        *error = "media port " + std::to_string (m->m_port) + " out of range";
      sdp_parser_free (parser);
      return std::nullopt;
    }
    line.port = static_cast<unsigned> (m->m_port);
    for (const sdp_list_t *f = m->m_format; f != nullptr; f = f->l_next)
      line.formats.push_back (f->l_text);
    if (sdp_media_has_rtp (m)) {
      line.codecs = media_codecs (m);
      if (line.formats.empty ())
        for (const SdpCodec &c : line.codecs)
          line.formats.push_back (std::to_string (c.payload_type));
    }
    const sdp_connection_t *c = sdp_media_connections (m);
    if (c != nullptr && c->c_address != nullptr)
      line.connection_address = c->c_address;
    line.ptime_ms = parse_ptime (m->m_attributes);
    if (line.ptime_ms == 0)
      line.ptime_ms = session_ptime;
    line.direction = direction_from_mode (m->m_mode);

    if (line.port != 0 && sdp_media_has_rtp (m) &&
        line.connection_address.empty ()) {
      if (error != nullptr)
        *error = "media line without connection address";
      sdp_parser_free (parser);
      return std::nullopt;
    }
    description.media.push_back (std::move (line));
  }
  sdp_parser_free (parser);

  if (description.media.empty ()) {
    if (error != nullptr)
      *error = "no m= line";
    return std::nullopt;
  }
  return description;
}

Negotiation
negotiate_answer (const SdpDescription &offer, const NegotiationPolicy &policy)
{
  return choose (offer, policy);
}

Negotiation
read_answer (const SdpDescription &answer, const NegotiationPolicy &policy)
{
  return choose (answer, policy);
}

std::vector<LocalMediaLine>
answer_media_lines (const SdpDescription &offer, const Negotiation &negotiation,
    unsigned port)
{
  std::vector<LocalMediaLine> lines;
  for (size_t i = 0; i < offer.media.size (); i++) {
    const SdpMediaLine &offered = offer.media[i];
    LocalMediaLine line;
    line.media = offered.media;
    line.proto = offered.proto;
    if (static_cast<int> (i) == negotiation.media_index) {
      line.port = port;
      line.codecs.push_back (negotiation.codec);
      if (negotiation.dtmf.payload_type >= 0)
        line.codecs.push_back (negotiation.dtmf);
      line.ptime_ms = negotiation.ptime_ms;
      line.direction = negotiation.local_direction;
    } else {
      line.port = 0;
      /* A payload type without a=rtpmap and without a static name is
       * answered by number only: "a=rtpmap:96 /8000" would make our whole
       * answer unparsable. */
      if (!offered.codecs.empty () && !offered.codecs.front ().name.empty ())
        line.codecs.push_back (offered.codecs.front ());
      else if (!offered.codecs.empty ())
        line.formats.push_back (std::to_string (offered.codecs.front ().payload_type));
      else if (!offered.formats.empty ())
        line.formats.push_back (offered.formats.front ());
    }
    lines.push_back (std::move (line));
  }
  return lines;
}

LocalMediaLine
offer_media_line (const NegotiationPolicy &policy, unsigned port,
    int dtmf_payload_type, MediaDirection direction)
{
  LocalMediaLine line;
  line.port = port;
  for (const std::string &name : policy.codecs) {
    int pt = static_payload_type (name);
    if (pt >= 0)
      line.codecs.push_back (SdpCodec {pt, name, 8000, {}});
  }
  if (dtmf_payload_type >= 96 && dtmf_payload_type <= 127)
    line.codecs.push_back (SdpCodec {dtmf_payload_type, "telephone-event",
        8000, "0-16"});
  line.ptime_ms = policy.default_ptime_ms;
  line.direction = direction;
  return line;
}

std::string
print_sdp (const LocalDescription &description)
{
  Home home = make_home ();
  su_home_t *h = home.get ();
  auto zalloc = [h] (auto *&ptr) {
    using T = std::remove_reference_t<decltype (*ptr)>;
    ptr = static_cast<T *> (su_zalloc (h, sizeof (T)));
  };

  const bool ipv6 = description.address.find (':') != std::string::npos;
  sdp_connection_t *connection;
  zalloc (connection);
  connection->c_size = sizeof (sdp_connection_t);
  connection->c_nettype = sdp_net_in;
  connection->c_addrtype = ipv6 ? sdp_addr_ip6 : sdp_addr_ip4;
  connection->c_address = su_strdup (h, description.address.c_str ());

  sdp_origin_t *origin;
  zalloc (origin);
  origin->o_size = sizeof (sdp_origin_t);
  origin->o_username = "-";
  origin->o_id = description.session_id;
  origin->o_version = description.session_version;
  origin->o_address = connection;

  sdp_time_t *time;
  zalloc (time);
  time->t_size = sizeof (sdp_time_t);

  sdp_session_t *session;
  zalloc (session);
  session->sdp_size = sizeof (sdp_session_t);
  session->sdp_origin = origin;
  session->sdp_subject = "voxbridge";
  session->sdp_connection = connection;
  session->sdp_time = time;

  sdp_media_t **tail = &session->sdp_media;
  for (const LocalMediaLine &line : description.media) {
    sdp_media_t *m;
    zalloc (m);
    m->m_size = sizeof (sdp_media_t);
    m->m_session = session;
    sdp_media_type (m, line.media.c_str ());
    sdp_media_transport (m, line.proto.c_str ());
    m->m_port = line.port;
    m->m_rejected = line.port == 0;
    m->m_mode = mode_from_direction (line.direction);

    sdp_rtpmap_t **rm_tail = &m->m_rtpmaps;
    for (const SdpCodec &codec : line.codecs) {
      sdp_rtpmap_t *rm;
      zalloc (rm);
      rm->rm_size = sizeof (sdp_rtpmap_t);
      rm->rm_pt = static_cast<unsigned> (codec.payload_type) & 0x7f;
      rm->rm_encoding = su_strdup (h, codec.name.c_str ());
      rm->rm_rate = codec.clock_rate;
      if (!codec.fmtp.empty ())
        rm->rm_fmtp = su_strdup (h, codec.fmtp.c_str ());
      *rm_tail = rm;
      rm_tail = &rm->rm_next;
    }
    sdp_list_t **f_tail = &m->m_format;
    for (const std::string &format : line.formats) {
      sdp_list_t *f;
      zalloc (f);
      f->l_size = sizeof (sdp_list_t);
      f->l_text = su_strdup (h, format.c_str ());
      *f_tail = f;
      f_tail = &f->l_next;
    }
    if (line.port != 0 && line.ptime_ms != 0) {
      sdp_attribute_t *a;
      zalloc (a);
      a->a_size = sizeof (sdp_attribute_t);
      a->a_name = "ptime";
      a->a_value = su_sprintf (h, "%u", line.ptime_ms);
      m->m_attributes = a;
    }
    *tail = m;
    tail = &m->m_next;
  }

  sdp_printer_t *printer = sdp_print (h, session, nullptr, 0,
      sdp_f_mode_always);
  std::string text;
  if (sdp_printing_error (printer) == nullptr && sdp_message (printer))
    text.assign (sdp_message (printer), sdp_message_size (printer));
  else
    g_warning ("sipd: cannot print SDP: %s", sdp_printing_error (printer));
  sdp_printer_free (printer);
  return text;
}

}  // namespace voxbridge::sipd
