#pragma once
/* What the launcher knows about a call when it routes it and renders its
 * pipeline: filled by sipd from the INVITE and the SDP answer. */

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace voxbridge::launcher {

struct CallFacts {
  std::string call_id;
  std::string direction = "inbound";   /* "inbound" | "outbound" */
  guint16 rtp_port = 0;                /* our local RTP port */
  std::string codec = "PCMU";          /* negotiated: "PCMU" | "PCMA" */
  std::string request_user;            /* user part of the request-URI */
  std::string from_uri;
  std::string from_user;
  std::string to_uri;
  std::string to_user;
  /* SIP headers as received (name in any case, repeated names allowed). */
  std::vector<std::pair<std::string, std::string>> headers;

  /* First value of header @name (case-insensitive), nullptr when absent. */
  const char *header (const std::string & name) const;
};

/* A representative inbound call (Connect External Voice Transfer with a
 * User-to-User header), for checking configs and pipelines without SIP. */
CallFacts example_call_facts ();

}  // namespace voxbridge::launcher
