#pragma once
/* The launcher's JSON events log (one event a line, launcher/CONFIG.md):
 * what the benchmark takes from it. */

#include <istream>
#include <map>
#include <string>

/* For each caller (the user part of call.started's "from", e.g. bench-7),
 * the AI connect time its call.answered reported (ai_connect_ms: the
 * launcher opening the Realtime connection to session.updated). Lines that
 * are not JSON events are skipped; *@skipped counts them. */
std::map<std::string, double> ai_connect_ms_by_caller (std::istream &log, size_t *skipped);
