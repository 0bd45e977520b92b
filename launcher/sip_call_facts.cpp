/* sipd call variables -> CallFacts. */

#include "sip_call_facts.h"

namespace voxbridge::launcher {

namespace {

/* "Name" <sip:user@host;p> -> sip:user@host;p. sipd writes bare URIs for
 * inbound calls; for outbound ones it keeps the address as dialled. */
std::string
bare_uri (const std::string & address)
{
  size_t open = address.find ('<');
  size_t close = address.find ('>', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos)
    return address;
  return address.substr (open + 1, close - open - 1);
}

}  // namespace

std::string
sip_uri_user (const std::string & address)
{
  const std::string uri = bare_uri (address);
  size_t colon = uri.find (':');
  size_t at = uri.find ('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon)
    return {};
  return uri.substr (colon + 1, at - colon - 1);
}

CallFacts
call_facts_from_sip (const sipd::Call & call)
{
  const sipd::Variables & v = call.variables ();
  auto get = [&v] (const char *name) -> std::string {
    auto it = v.find (name);
    return it != v.end () ? it->second : std::string ();
  };

  CallFacts facts;
  facts.call_id = call.id ();
  facts.direction = call.direction () == sipd::CallDirection::kInbound ?
      "inbound" : "outbound";
  guint64 port = 0;
  if (g_ascii_string_to_unsigned (get ("rtp.port").c_str (), 10, 0, G_MAXUINT16,
          &port, nullptr))
    facts.rtp_port = static_cast<guint16> (port);
  /* Not negotiated yet (INVITE without SDP): PCMU, the first of our offer. */
  facts.codec = get ("rtp.codec") == "PCMA" ? "PCMA" : "PCMU";
  facts.from_uri = bare_uri (get ("from.uri"));
  facts.to_uri = bare_uri (get ("to.uri"));
  facts.from_user = v.count ("from.user") ? get ("from.user") : sip_uri_user (facts.from_uri);
  facts.to_user = v.count ("to.user") ? get ("to.user") : sip_uri_user (facts.to_uri);
  facts.request_user = v.count ("request.user") ? get ("request.user") :
      sip_uri_user (get ("request.uri"));

  if (v.count ("uui.raw") != 0)
    facts.headers.emplace_back ("User-to-User", get ("uui.raw"));
  static const std::string prefix = "header.";
  for (const auto & [name, value] : v) {
    if (name.compare (0, prefix.size (), prefix) == 0)
      facts.headers.emplace_back (name.substr (prefix.size ()), value);
  }
  return facts;
}

}  // namespace voxbridge::launcher
