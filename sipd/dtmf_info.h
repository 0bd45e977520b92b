#pragma once
/* DTMF carried in SIP INFO bodies: application/dtmf-relay ("Signal=5\r\n
 * Duration=160") as sent by most trunks and SBCs, and application/dtmf
 * (the bare digit). */

#include <glib.h>

#include <optional>
#include <string_view>

namespace voxbridge::sipd {

struct DtmfInfo {
  char digit = 0;              /* 0-9, *, #, A-D; 'E'..: not used */
  guint duration_ms = 0;       /* 0 when the body does not say */
};

/* nullopt when the content type is not a DTMF one or the body is malformed. */
std::optional<DtmfInfo> parse_dtmf_info (std::string_view content_type,
    std::string_view body);

}  // namespace voxbridge::sipd
