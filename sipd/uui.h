#pragma once
/* The User-to-User header (RFC 7433). Amazon Connect puts the contact flow's
 * UserToUserInformation there, hex-encoded, usually with ";encoding=hex". */

#include <optional>
#include <string>
#include <string_view>

namespace voxbridge::sipd {

struct UserToUser {
  std::string raw;                  /* the header value as received */
  std::string data;                 /* the value without parameters */
  std::string encoding;             /* the encoding parameter, lower case */
  std::optional<std::string> text;  /* decoded, valid UTF-8; nullopt if not */
  std::string error;                /* why text is missing */
};

/* Decodes @value. With encoding=hex (or no encoding and data that is
 * plausibly hex) the data is hex-decoded; the result must be UTF-8 without
 * NUL bytes to count as text. Without encoding and non-hex data, the data is
 * taken as text as it is. Never throws; malformed input sets error. */
UserToUser decode_user_to_user (std::string_view value);

}  // namespace voxbridge::sipd
