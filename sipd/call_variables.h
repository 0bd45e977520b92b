#pragma once
/* The per-call variables the launcher renders pipeline descriptions with
 * (${from.user}, ${uui}, ${header.X-Foo}, ${rtp.port}, ...), read from the
 * INVITE. */

#include <map>
#include <string>

extern "C" {
struct sip_s;
}

namespace voxbridge::sipd {

using Variables = std::map<std::string, std::string>;

/* from.user, from.uri, from.display, to.user, to.uri, request.user,
 * request.uri, call.sip_id, uui + uui.raw (User-to-User, see uui.h), and
 * header.<Name> for every X-* header (repeated headers joined with ","). */
Variables variables_from_request (const struct sip_s *sip);

}  // namespace voxbridge::sipd
