/* User-to-User header decoding: see uui.h. */

#include "uui.h"

#include <glib.h>

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

bool
all_hex (std::string_view s)
{
  for (char c : s)
    if (!g_ascii_isxdigit (c))
      return false;
  return true;
}

std::optional<std::string>
hex_decode (std::string_view hex, std::string *error)
{
  if (hex.size () % 2 != 0) {
    *error = "odd number of hex digits";
    return std::nullopt;
  }
  if (!all_hex (hex)) {
    *error = "not hex";
    return std::nullopt;
  }
  std::string bytes;
  bytes.reserve (hex.size () / 2);
  for (size_t i = 0; i < hex.size (); i += 2)
    bytes.push_back (static_cast<char> (
        (g_ascii_xdigit_value (hex[i]) << 4) | g_ascii_xdigit_value (hex[i + 1])));
  return bytes;
}

bool
is_text (const std::string &bytes)
{
  return bytes.find ('\0') == std::string::npos &&
      g_utf8_validate (bytes.data (), static_cast<gssize> (bytes.size ()),
          nullptr);
}

}  // namespace

UserToUser
decode_user_to_user (std::string_view value)
{
  UserToUser uui;
  uui.raw = std::string (value);

  /* uui-data *( SEMI uui-param ): the data is a token or a quoted string,
   * so the first ';' outside quotes ends it. */
  std::string_view rest = trim (value);
  size_t end = 0;
  bool quoted = false;
  for (; end < rest.size (); end++) {
    if (rest[end] == '"')
      quoted = !quoted;
    else if (rest[end] == ';' && !quoted)
      break;
  }
  std::string_view data = trim (rest.substr (0, end));
  if (data.size () >= 2 && data.front () == '"' && data.back () == '"')
    data = data.substr (1, data.size () - 2);
  uui.data = std::string (data);

  std::string_view params = end < rest.size () ? rest.substr (end + 1) : "";
  while (!params.empty ()) {
    size_t semi = params.find (';');
    std::string_view param = trim (params.substr (0, semi));
    params = semi == std::string_view::npos ? "" : params.substr (semi + 1);
    size_t eq = param.find ('=');
    if (eq == std::string_view::npos)
      continue;
    std::string name (trim (param.substr (0, eq)));
    if (g_ascii_strcasecmp (name.c_str (), "encoding") == 0) {
      gchar *lower = g_ascii_strdown (std::string (trim (param.substr (eq + 1))).c_str (), -1);
      uui.encoding = lower;
      g_free (lower);
    }
  }

  if (uui.data.empty ()) {
    uui.error = "empty";
    return uui;
  }

  if (uui.encoding == "hex" ||
      (uui.encoding.empty () && uui.data.size () % 2 == 0 && all_hex (uui.data))) {
    std::string why;
    std::optional<std::string> bytes = hex_decode (uui.data, &why);
    if (!bytes) {
      uui.error = why;
      return uui;
    }
    if (!is_text (*bytes)) {
      /* Binary UUI (e.g. ISDN Q.931 user information) is legitimate when no
       * encoding was declared; keep only the raw form then. */
      if (uui.encoding.empty ()) {
        uui.text = uui.data;
        return uui;
      }
      uui.error = "decoded data is not UTF-8 text";
      return uui;
    }
    uui.text = std::move (*bytes);
    return uui;
  }

  if (!uui.encoding.empty ()) {
    uui.error = "unsupported encoding '" + uui.encoding + "'";
    return uui;
  }
  if (!is_text (uui.data)) {
    uui.error = "not UTF-8 text";
    return uui;
  }
  uui.text = uui.data;
  return uui;
}

}  // namespace voxbridge::sipd
