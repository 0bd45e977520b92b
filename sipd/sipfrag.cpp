/* message/sipfrag status line (RFC 3420 / RFC 3515 2.4.5). */

#include "sipfrag.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include <glib.h>

namespace voxbridge::sipd {

std::optional<SipfragStatus>
parse_sipfrag_status (const std::string &body, std::string *error)
{
  auto fail = [error] (const std::string &why) -> std::optional<SipfragStatus> {
    if (error != nullptr)
      *error = why;
    return std::nullopt;
  };

  const size_t eol = body.find_first_of ("\r\n");
  const std::string line = body.substr (0, eol);
  if (line.empty ())
    return fail ("empty sipfrag");
  if (line.find ('\0') != std::string::npos)
    return fail ("NUL in the sipfrag status line");
  if (g_ascii_strncasecmp (line.c_str (), "SIP/", 4) != 0)
    return fail ("not a status line: '" + line.substr (0, 60) + "'");

  su_home_t *home = static_cast<su_home_t *> (su_home_new (sizeof (su_home_t)));
  sip_status_t *parsed = sip_status_make (home, line.c_str ());
  std::optional<SipfragStatus> result;
  if (parsed == nullptr)
    result = fail ("malformed status line: '" + line.substr (0, 60) + "'");
  else if (parsed->st_status < 100 || parsed->st_status > 699)
    result = fail ("status " + std::to_string (parsed->st_status) +
        " out of range");
  else
    result = SipfragStatus {parsed->st_status,
        parsed->st_phrase != nullptr ? parsed->st_phrase : ""};
  su_home_unref (home);
  return result;
}

}  // namespace voxbridge::sipd
