/* Lifting a long base64 string member out of a JSON object. */
#include "json_string_lift.h"

#include <array>
#include <cstring>

namespace voxbridge::realtime {

namespace {

constexpr gsize kNotFound = G_MAXSIZE;

constexpr std::array<bool, 256>
make_base64_table ()
{
  std::array<bool, 256> table {};
  for (int c = 'A'; c <= 'Z'; c++)
    table[c] = true;
  for (int c = 'a'; c <= 'z'; c++)
    table[c] = true;
  for (int c = '0'; c <= '9'; c++)
    table[c] = true;
  table['+'] = table['/'] = table['='] = true;
  return table;
}

constexpr std::array<bool, 256> kBase64 = make_base64_table ();

bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

gsize
skip_space (const char *text, gsize length, gsize i)
{
  while (i < length && is_space (text[i]))
    i++;
  return i;
}

/* Just past the string literal whose opening quote is at @i, or kNotFound
 * when it does not end. */
gsize
skip_string (const char *text, gsize length, gsize i)
{
  for (i++; i < length; i++) {
    if (text[i] == '\\')
      i++;                      /* the escaped character, whatever it is */
    else if (text[i] == '"')
      return i + 1;
  }
  return kNotFound;
}

}  // namespace

bool
lift_json_string_member (const char *text, gsize length, const char *name,
    gsize min_length, std::string_view * value, std::string * rest)
{
  const gsize name_length = strlen (name);
  gsize i = skip_space (text, length, 0);
  if (i >= length || text[i] != '{')
    return false;
  i++;
  int depth = 1;                /* objects and arrays open around i */
  bool expect_key = true;       /* the next string at depth 1 is a member name */
  while (i < length) {
    const char c = text[i];
    if (c == '"') {
      const gsize end = skip_string (text, length, i);
      if (end == kNotFound)
        return false;
      if (depth != 1 || !expect_key) {
        i = end;
        continue;
      }
      /* A name written with escapes does not match: json-glib reads it. */
      const bool match = end - i - 2 == name_length
          && memcmp (text + i + 1, name, name_length) == 0;
      i = skip_space (text, length, end);
      if (i >= length || text[i] != ':')
        return false;
      i = skip_space (text, length, i + 1);
      expect_key = false;
      if (!match)
        continue;
      if (i >= length || text[i] != '"')
        return false;           /* not a string: json-glib reads it */
      const gsize begin = i + 1;
      gsize j = begin;
      while (j < length && kBase64[static_cast<guchar> (text[j])])
        j++;
      if (j >= length || text[j] != '"' || j - begin < min_length)
        return false;
      *value = std::string_view (text + begin, j - begin);
      rest->assign (text, begin);
      rest->append (text + j, length - j);
      return true;
    }
    if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return false;           /* the object ended without the member */
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
    i++;
  }
  return false;
}

}  // namespace voxbridge::realtime
