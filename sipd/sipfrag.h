#pragma once
/* The status line of a message/sipfrag body (RFC 3420), as the NOTIFYs of
 * the refer event package carry it (RFC 3515 2.4.5): "SIP/2.0 200 OK".
 * Pure function, parsed with Sofia-SIP's status-line parser. */

#include <optional>
#include <string>

namespace voxbridge::sipd {

struct SipfragStatus {
  int status = 0;       /* 100..699 */
  std::string phrase;   /* may be empty */
};

/* The status of @body's first line; std::nullopt with @error when the body
 * does not start with a SIP/2.0 status line (a request line, garbage, a
 * status outside 100..699). Headers after the first line are ignored. */
std::optional<SipfragStatus> parse_sipfrag_status (const std::string &body,
    std::string *error = nullptr);

}  // namespace voxbridge::sipd
