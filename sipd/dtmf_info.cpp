/* SIP INFO DTMF bodies: see dtmf_info.h. */

#include "dtmf_info.h"

#include <string>

namespace voxbridge::sipd {

namespace {

std::string_view
trim (std::string_view s)
{
  while (!s.empty () && g_ascii_isspace (s.front ()))
    s.remove_prefix (1);
  while (!s.empty () && g_ascii_isspace (s.back ()))
    s.remove_suffix (1);
  return s;
}

/* RFC 4733 event codes 10 and 11 are '*' and '#', 12-15 'A'-'D'. */
std::optional<char>
parse_digit (std::string_view s)
{
  if (s.size () == 1) {
    char c = g_ascii_toupper (s[0]);
    if (g_ascii_isdigit (c) || c == '*' || c == '#' || (c >= 'A' && c <= 'D'))
      return c;
    return std::nullopt;
  }
  if (s == "10")
    return '*';
  if (s == "11")
    return '#';
  if (s.size () == 2 && s[0] == '1' && s[1] >= '2' && s[1] <= '5')
    return static_cast<char> ('A' + (s[1] - '2'));
  return std::nullopt;
}

bool
equal_nocase (std::string_view a, std::string_view b)
{
  return a.size () == b.size () &&
      g_ascii_strncasecmp (a.data (), b.data (), a.size ()) == 0;
}

}  // namespace

std::optional<DtmfInfo>
parse_dtmf_info (std::string_view content_type, std::string_view body)
{
  std::string_view type = trim (content_type.substr (0, content_type.find (';')));
  if (equal_nocase (type, "application/dtmf")) {
    std::optional<char> digit = parse_digit (trim (body));
    if (!digit)
      return std::nullopt;
    return DtmfInfo {*digit, 0};
  }
  if (!equal_nocase (type, "application/dtmf-relay"))
    return std::nullopt;

  std::optional<DtmfInfo> info;
  guint duration = 0;
  while (!body.empty ()) {
    size_t eol = body.find_first_of ("\r\n");
    std::string_view line = trim (body.substr (0, eol));
    body = eol == std::string_view::npos ? "" : body.substr (eol + 1);
    size_t eq = line.find ('=');
    if (eq == std::string_view::npos)
      continue;
    std::string_view name = trim (line.substr (0, eq));
    std::string_view value = trim (line.substr (eq + 1));
    if (equal_nocase (name, "Signal")) {
      std::optional<char> digit = parse_digit (value);
      if (!digit)
        return std::nullopt;
      info = DtmfInfo {*digit, 0};
    } else if (equal_nocase (name, "Duration")) {
      guint64 ms = 0;
      if (g_ascii_string_to_unsigned (std::string (value).c_str (), 10, 0,
              G_MAXUINT, &ms, nullptr))
        duration = static_cast<guint> (ms);
    }
  }
  if (info)
    info->duration_ms = duration;
  return info;
}

}  // namespace voxbridge::sipd
