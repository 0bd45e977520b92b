#pragma once
/* Small json-glib helpers shared by the launcher's JSON writers (events,
 * tool outputs, webhook bodies). */

#include <json-glib/json-glib.h>

#include <string>

namespace voxbridge::launcher {

/* Sets member @key to @value, made valid UTF-8 first (SIP headers and
 * model text are not guaranteed to be). */
void json_add_string_member (JsonBuilder * builder, const std::string & key,
    const std::string & value);

/* True when @node holds a number JSON cannot write back: json-glib reads
 * 1e309 as infinity and json_to_string() then prints "inf.0", which is not
 * JSON. Text that holds one is refused rather than passed on broken. */
bool json_has_non_finite (JsonNode * node);

/* The finished document of @builder as compact text; unrefs @builder. */
std::string json_builder_take_text (JsonBuilder * builder);

}  // namespace voxbridge::launcher
