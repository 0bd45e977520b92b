#pragma once
/* Matches what the benchmark's callers sent and received (RTP, with
 * CLOCK_MONOTONIC times) against what the off-line Realtime server logged
 * (voxbridge-realtime-sim --timing-log: appends in, audio deltas out, same
 * clock), giving the latency each direction adds and the round trip.
 *
 * Echo behaviour is assumed: the server sends every append straight back,
 * so its output stream is its input stream.
 *  - G.711 to the model (sim_bytes_per_sample 1): the bytes are untouched
 *    end to end, so every chunk is located by content (FNV-1a hashes from
 *    the log; a byte search in what the caller received), and each match is
 *    verified.
 *  - 24 kHz PCM to the model (6 bytes per 8 kHz caller sample): the input
 *    side is placed by sample count from the start of the call, the output
 *    side by cross-correlating the decoded audio the caller sent and got
 *    back (resampling changes the bytes). */

#include "bench_stats.h"

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace voxbridge::bench {

struct SimChunk {
  int64_t t_ns = 0;
  uint64_t offset = 0;  /* in the session's input or output byte stream */
  uint32_t len = 0;
  uint32_t hash = 0;    /* FNV-1a 32 of the chunk's bytes */
};

struct SimSessionLog {
  std::string id;
  std::string instructions;  /* the benchmark puts the caller's name here */
  int64_t open_ns = 0;
  int64_t updated_ns = 0;    /* the first session.updated: the session is ready */
  std::vector<SimChunk> in;
  std::vector<SimChunk> out;
  std::vector<int64_t> speech_started_ns;  /* when the server sent speech_started */
};

/* Parses a --timing-log file. False and @error ("line N: ...") on a
 * malformed line. */
bool parse_timing_log (std::istream &input, std::map<std::string, SimSessionLog> *sessions,
    std::string *error);

uint32_t fnv1a32 (const uint8_t *data, size_t len);

/* One caller's RTP as the benchmark saw it. */
struct CallerTrace {
  size_t packet_bytes = 160;            /* G.711 bytes per RTP packet */
  std::vector<uint8_t> sent;            /* packet i = bytes [i*packet_bytes, +packet_bytes) */
  std::vector<int64_t> sent_ns;         /* send time of packet i */
  std::vector<uint8_t> received;        /* payloads in arrival order, duplicates left out */
  std::vector<size_t> received_offsets; /* where each received packet starts in @received */
  std::vector<int64_t> received_ns;     /* arrival time of each received packet */
  /* 24 kHz mode only: @sent and @received decoded to linear PCM. */
  std::vector<int16_t> sent_linear;
  std::vector<int16_t> received_linear;
};

struct Correlation {
  std::vector<double> to_ai_ms;      /* caller packet sent -> its append arrived at the server */
  std::vector<double> to_caller_ms;  /* delta sent by the server -> its RTP packet arrived */
  /* The same deltas and packets, from the earliest a perfect real-time
   * player could have sent that packet (RealtimePlayout) instead
   * of from the delta's send time: the waiting behind earlier audio that
   * playing at real time imposes is left out. Negative when the packet
   * arrived sooner than that (siprtpsink sends audio completing a packet up
   * to a quarter ptime early; or the launcher dropped audio). Kept as is,
   * not clamped. */
  std::vector<double> to_caller_beyond_playout_ms;
  std::vector<double> round_trip_ms; /* caller packet sent -> its echo arrived back */
  bool verified = false;             /* content matched (G.711), not just placed */
  bool aligned = false;              /* the output side was found in what the caller got */
  long input_shift_bytes = 0;        /* server input offset + shift = caller byte index */
  long output_shift_samples = 0;     /* server output sample + shift = received sample */
  size_t in_matched = 0, in_unmatched = 0;
  size_t out_matched = 0, out_unmatched = 0, out_realigned = 0;
  int64_t first_echo_ns = 0;         /* arrival of the first echoed audio at the caller */
};

Correlation correlate (const CallerTrace &trace, const SimSessionLog &log,
    int sim_bytes_per_sample);

/* The earliest a real-time sender could have sent the packet completing
 * each chunk of the server's output, fed the chunks in the order sent:
 *   ideal_0 = sent_0
 *   ideal_k = max (sent_k, min (ideal_{k-1}, arrived_{k-1}) + duration_k)
 * where duration_k is chunk k's audio and arrived_{k-1} when the previous
 * chunk's packet was found at the caller. Deltas sent in a burst queue
 * here as they must at any real-time sender, and once the server pauses the
 * send times take over again. The launcher's lateness never moves the
 * schedule later (a stall stays late for every packet it delays), but a
 * packet that left before its ideal time (siprtpsink sends audio up to a
 * quarter ptime early, and moves a talk-spurt's schedule earlier) brings
 * it forward, as it would a perfect sender: one late delta of the server
 * does not stay queued for the rest of the call. */
class RealtimePlayout {
 public:
  explicit RealtimePlayout (int64_t bytes_per_second) : bytes_per_second_ (bytes_per_second) {}
  /* The ideal time of @chunk, the next the server sent. */
  int64_t next (const SimChunk &chunk);
  /* The packet completing the chunk given to next() last reached the
   * caller at @arrived_ns. */
  void arrived (int64_t arrived_ns);

 private:
  int64_t bytes_per_second_;
  int64_t previous_ = 0;
  bool started_ = false;
};

/* Lag (0..@max_lag samples) at which @b best matches @a over
 * [@start, @start + @window): b[i + lag] ~ a[i]. -1 when the window holds
 * no signal or does not fit. */
long best_lag (const std::vector<int16_t> &a, const std::vector<int16_t> &b, size_t start,
    size_t window, long max_lag);

}  // namespace voxbridge::bench
