#pragma once
/* JSON shapes of the HTTP API's call resources (launcher/CONFIG.md, "HTTP API"). */

#include <json-glib/json-glib.h>

#include <string>

#include "call_control.h"

namespace voxbridge::launcher {

/* {"id","direction","state","from","to","route","codec","started_at",
 *  "answered_at"} plus, when @details, "pipeline_state", "headers" (array
 *  of {name,value}) and "variables" (object). Returns a new node. */
JsonNode *call_info_to_json (const CallInfo & call, bool details);

/* Parses a POST /calls body: {"to": "...", "from"?: "...", "route"?: "...",
 * "variables"?: {"name": "string", ...}}. Returns FALSE with @error. */
bool parse_dial_request (const std::string & body, DialRequest & request,
    std::string & error);

/* Serializes @node (taking no ownership) compactly. */
std::string json_node_to_text (JsonNode * node);

}  // namespace voxbridge::launcher
