/* sipd call variables -> CallFacts. */

#include "sip_call_facts.h"

namespace voxbridge::launcher {

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
  facts.request_user = get ("request.user");
  facts.from_uri = get ("from.uri");
  facts.from_user = get ("from.user");
  facts.to_uri = get ("to.uri");
  facts.to_user = get ("to.user");

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
