#pragma once
/* The graph that joins two SIP calls of the daemon after a transfer by
 * INVITE: each call's siprtpsrc feeds the other call's siprtpsink.
 * G.711 passes untouched when both calls negotiated the same codec and is
 * transcoded (mulaw <-> alaw through raw audio) when they did not. Pure
 * functions; the daemon builds the description with build_pipeline. */

#include <optional>
#include <string>

namespace voxbridge::launcher {

struct BridgeLeg {
  std::string call_id;   /* sipd call id (the RTP registry key) */
  std::string codec;     /* negotiated encoding name: "PCMU" or "PCMA" */
};

/* The elements between leg @from's siprtpsrc and leg @to's siprtpsink:
 * "" for the same codec, "mulawdec ! alawenc" and so on otherwise;
 * std::nullopt for a codec that is not G.711. */
std::optional<std::string> bridge_transcoder (const std::string & from_codec,
    const std::string & to_codec);

/* The gst-launch description of the bridge between @a and @b, or
 * std::nullopt with @error for a bad call id or codec. */
std::optional<std::string> bridge_pipeline_description (const BridgeLeg & a,
    const BridgeLeg & b, std::string * error);

}  // namespace voxbridge::launcher
