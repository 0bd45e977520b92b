#pragma once
/* What sipd knows about a call (its variables), as the CallFacts that route
 * selection and pipeline variables are made from. */

#include "call_facts.h"
#include "sipd.h"

namespace voxbridge::launcher {

/* call.id, direction, rtp.port, rtp.codec, request/from/to, and the headers
 * sipd keeps: User-to-User (as received, uui.raw) and every X-* header. */
CallFacts call_facts_from_sip (const sipd::Call & call);

/* The user part of "sip:user@host;params" (or of the URI inside a name-addr
 * "Name" <sip:user@host>), empty when there is none. */
std::string sip_uri_user (const std::string & address);

}  // namespace voxbridge::launcher
