#pragma once
/* One benchmark run: the off-line Realtime server (echo), a launcher
 * (voxbridge --config) with a generated config, N SIP calls placed at a
 * given rate by an in-process caller (sipd as UAC + one RTP thread), each
 * streaming speech at real-time pace; then the figures. */

#include "bench_stats.h"

#include <string>
#include <vector>

namespace voxbridge::bench {

struct RunSettings {
  /* g711 (passthrough), pcm24k (resampling): the sim echoes;
   * bargein: G.711, the sim answers every turn and the callers talk over
   * its answers (phrases with pauses), for the barge-in cut-off. */
  std::string mode = "g711";
  int calls = 50;
  double rate = 20;            /* calls per second */
  int duration_s = 20;         /* steady state, once every call is up */
  int jitter_ms = 60;          /* siprtpsrc latency (the element's default) */
  bool barge_in = true;        /* route barge-in (the launcher's default) */
};

struct Paths {
  std::string sim;             /* voxbridge-realtime-sim */
  std::string launcher;        /* voxbridge */
  std::string pipelines_dir;   /* the repository's pipelines/ */
  std::string plugin_dir;      /* <builddir>/plugins, for the launcher */
  std::string work_dir;        /* config, pipeline copy, logs */
  int sip_port_base = 0;       /* 0 = pick free ports */
};

struct RunResult {
  RunSettings settings;
  std::string error;           /* set when the run could not be made */
  int calls_answered = 0;
  int calls_failed = 0;
  int calls_correlated = 0;    /* calls whose audio was found at the server */
  double steady_s = 0;
  /* launcher at steady state */
  double cpu_percent_per_call = 0;   /* of one core */
  double cpu_percent_total = 0;
  double rss_kib_baseline = 0, rss_kib_per_call = 0;
  double threads_baseline = 0, threads_per_call = 0;
  double sim_cpu_percent = 0, bench_cpu_percent = 0;
  /* latency, ms */
  Summary to_ai, to_caller, round_trip, setup_answer, setup_first_audio;
  /* to_caller less the wait behind earlier audio that real-time playout
   * imposes (Correlation::to_caller_beyond_playout_ms) */
  Summary to_caller_beyond_playout;
  Summary setup_without_ai;      /* setup_answer minus the AI connect the server saw */
  /* setup_answer minus the AI connect the launcher timed (its events log) */
  Summary setup_without_ai_launcher_timed;
  bool latency_verified = false;     /* content-matched (G.711) rather than placed */
  /* bargein mode: server's speech_started -> the interrupted answer's last
   * packet at the caller, ms; speech_started with nothing playing */
  Summary barge_in_cutoff;
  size_t barge_in_idle = 0;
  /* RTP: from the launcher (/metrics) and as the callers saw it */
  double launcher_rtp_in = 0, launcher_rtp_out = 0;
  double launcher_lost = 0, launcher_late = 0, launcher_duplicates = 0;
  double launcher_dropped_other = 0;
  double graph_dropped_ms = 0;       /* model audio discarded inside the graph */
  /* the launcher's own latency histograms (/metrics), mean over the run, ms */
  double launcher_to_ai_mean_ms = 0, launcher_to_caller_mean_ms = 0;
  uint64_t caller_sent = 0, caller_received = 0, caller_lost = 0, caller_late = 0,
      caller_duplicates = 0;
  std::string notes;
};

/* Whether the launcher kept up: every call answered, no RTP lost or late
 * either way, no model audio discarded, caller audio at the model within
 * 100 ms at p99 (beyond that the graph's 200 ms leaky queue is about to
 * drop frames). @why says what failed. */
bool run_sustained (const RunResult &result, std::string *why);

/* @speech: the G.711 (PCMU) loop every caller streams (in bargein mode
 * cut into phrases with pauses between them). */
RunResult run_benchmark (const RunSettings &settings, const Paths &paths,
    const std::vector<uint8_t> &speech);

}  // namespace voxbridge::bench
