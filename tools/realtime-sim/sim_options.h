#pragma once

/* Command line of voxbridge-realtime-sim. */

#include <optional>
#include <string>
#include <vector>

namespace voxbridge::sim {

enum class Behaviour { kEcho, kParrot, kSpeak };

const char *behaviour_name (Behaviour behaviour);

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 0;  /* 0 = ephemeral */
  std::optional<std::string> api_key;
  std::string tls_cert;
  std::string tls_key;
  int max_sessions = 0;  /* 0 = unlimited */
  Behaviour behaviour = Behaviour::kSpeak;
  std::vector<std::string> replies;
  double pace = 3.0;  /* real-time factor of audio delta pacing; 0 = all at once */
  int delta_ms = 100;
  std::optional<std::string> function_call;
  std::string function_args = "{}";
  std::string espeak_voice = "en-us";
  bool verbose = false;
  std::string timing_log;  /* --timing-log FILE; empty = off */

  bool tls () const { return !tls_cert.empty (); }
};

/* Parses argv; false with a message for the user on bad options. --help
 * prints the usage and exits (GOption's behaviour). */
bool parse_sim_options (int argc, char **argv, SimOptions *out, std::string *error);

}  // namespace voxbridge::sim
