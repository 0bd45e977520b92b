/* The bridge graph of a transfer by INVITE. */

#include "bridge_graph.h"

#include <glib.h>

namespace voxbridge::launcher {

namespace {

/* The raw-audio codec elements of a G.711 encoding name. */
struct G711Elements {
  const char *decoder;
  const char *encoder;
};

std::optional<G711Elements>
g711_elements (const std::string & codec)
{
  if (g_ascii_strcasecmp (codec.c_str (), "PCMU") == 0)
    return G711Elements {"mulawdec", "mulawenc"};
  if (g_ascii_strcasecmp (codec.c_str (), "PCMA") == 0)
    return G711Elements {"alawdec", "alawenc"};
  return std::nullopt;
}

/* Call ids go into the description unquoted: keep them to what sipd makes. */
bool
is_call_id (const std::string & id)
{
  if (id.empty () || id.size () > 64)
    return false;
  for (char c : id)
    if (!g_ascii_isalnum (c) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

}  // namespace

std::optional<std::string>
bridge_transcoder (const std::string & from_codec, const std::string & to_codec)
{
  auto from = g711_elements (from_codec);
  auto to = g711_elements (to_codec);
  if (!from || !to)
    return std::nullopt;
  if (g_str_equal (from->decoder, to->decoder))
    return std::string ();
  return std::string (from->decoder) + " ! " + to->encoder;
}

std::optional<std::string>
bridge_pipeline_description (const BridgeLeg & a, const BridgeLeg & b, std::string * error)
{
  auto fail = [error] (const std::string & why) -> std::optional<std::string> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  for (const BridgeLeg *leg : {&a, &b}) {
    if (!is_call_id (leg->call_id))
      return fail ("bad call id '" + leg->call_id + "'");
    if (!g711_elements (leg->codec))
      return fail ("call " + leg->call_id + " uses " +
          (leg->codec.empty () ? std::string ("no codec") : leg->codec) +
          "; the bridge carries PCMU and PCMA");
  }
  if (a.call_id == b.call_id)
    return fail ("a call cannot be bridged to itself");

  /* A leaky queue per direction: a stalled leg drops its own audio
   * instead of holding up the other direction. */
  auto direction = [] (const BridgeLeg & from, const BridgeLeg & to) {
    const std::string transcoder = *bridge_transcoder (from.codec, to.codec);
    return "siprtpsrc call-id=" + from.call_id +
        " ! queue max-size-time=200000000 leaky=downstream ! " +
        (transcoder.empty () ? "" : transcoder + " ! ") +
        "siprtpsink call-id=" + to.call_id;
  };
  return direction (a, b) + "  " + direction (b, a);
}

}  // namespace voxbridge::launcher
