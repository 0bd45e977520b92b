#pragma once
/* send_dtmf: the model presses keys on the call. The digits go to the far
 * end as RFC 4733 telephone-events through siprtpsink's `send-dtmf` action
 * signal; the output says which digits were queued. */

#include <optional>
#include <string>

#include "call_tools.h"

namespace voxbridge::launcher {

/* Tone length of each digit (RFC 4733 event duration). */
constexpr guint kDtmfDigitMs = 120;

/* The "digits" argument of send_dtmf, upper-cased: 1–64 of 0-9 * # A-D.
 * nullopt with @error set when it is missing or holds anything else. */
std::optional<std::string> dtmf_digits_argument (const std::string & arguments,
    std::string & error);

void send_dtmf_tool (const CallToolsHooks & hooks, const ToolCall & call, ToolDone done);

}  // namespace voxbridge::launcher
