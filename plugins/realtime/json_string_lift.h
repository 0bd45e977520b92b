#pragma once
/* Lifts one long plain string member out of a JSON object before json-glib
 * parses it. The model's audio deltas are JSON objects of ~200 bytes around
 * a base64 string of 200 to 1300 bytes; json-glib's scanner copies that
 * string character by character, validates it as UTF-8 and (immutable
 * parser) hashes it, which was 9 % of the launcher's CPU at 100 calls
 * (perf, 24 kHz PCM). Lifted, the string is decoded straight from the
 * message and json-glib parses only the rest, where the member's value is
 * "" — so json-glib still checks the whole structure. */

#include <glib.h>

#include <string>
#include <string_view>

namespace voxbridge::realtime {

/* When @text is a JSON object whose top-level member @name has a string
 * value of at least @min_length characters, all of them base64 characters
 * (A-Z a-z 0-9 + / =, so no escape sequence and nothing to validate), sets
 * @value to those characters (a view into @text), @rest to @text with that
 * value emptied, and returns true. Otherwise (no such member, a shorter
 * value, another character in it, or text that is not an object up to
 * there) returns false and leaves both alone: the caller parses @text as it
 * is. Never reads past @length. */
bool lift_json_string_member (const char *text, gsize length, const char *name,
    gsize min_length, std::string_view * value, std::string * rest);

}  // namespace voxbridge::realtime
