/* Correlation of caller RTP traces with the Realtime server's timing log;
 * see timing_correlation.h. */

#include "timing_correlation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace voxbridge::bench {

uint32_t
fnv1a32 (const uint8_t *data, size_t len)
{
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    hash ^= data[i];
    hash *= 16777619u;
  }
  return hash;
}

bool
parse_timing_log (std::istream &input, std::map<std::string, SimSessionLog> *sessions,
    std::string *error)
{
  std::string line;
  size_t number = 0;
  while (std::getline (input, line)) {
    number++;
    if (line.empty ())
      continue;
    std::istringstream fields (line);
    std::string id, kind;
    fields >> id >> kind;
    SimSessionLog &session = (*sessions)[id];
    session.id = id;
    bool ok = true;
    if (kind == "open") {
      ok = static_cast<bool> (fields >> session.open_ns);
    } else if (kind == "speech_started") {
      int64_t t;
      ok = static_cast<bool> (fields >> t);
      if (ok)
        session.speech_started_ns.push_back (t);
    } else if (kind == "updated") {
      int64_t t;
      ok = static_cast<bool> (fields >> t);
      if (ok && session.updated_ns == 0)
        session.updated_ns = t;
    } else if (kind == "close") {
      int64_t t;
      ok = static_cast<bool> (fields >> t);
    } else if (kind == "instructions") {
      int64_t t;
      ok = static_cast<bool> (fields >> t >> session.instructions);
    } else if (kind == "in" || kind == "out") {
      SimChunk chunk;
      std::string hash;
      ok = static_cast<bool> (fields >> chunk.t_ns >> chunk.offset >> chunk.len >> hash) &&
          hash.size () == 8 && hash.find_first_not_of ("0123456789abcdef") == std::string::npos;
      if (ok) {
        chunk.hash = static_cast<uint32_t> (std::stoul (hash, nullptr, 16));
        (kind == "in" ? session.in : session.out).push_back (chunk);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      *error = "line " + std::to_string (number) + ": cannot read '" + line.substr (0, 80) + "'";
      return false;
    }
  }
  return true;
}

long
best_lag (const std::vector<int16_t> &a, const std::vector<int16_t> &b, size_t start,
    size_t window, long max_lag)
{
  if (start + window > a.size () || window == 0)
    return -1;
  double energy_a = 0;
  for (size_t i = 0; i < window; i++)
    energy_a += static_cast<double> (a[start + i]) * a[start + i];
  if (energy_a < static_cast<double> (window) * 100.0 * 100.0)
    return -1;  /* below ~-50 dBFS: nothing to match */
  long best = -1;
  double best_score = 0.5;  /* normalised correlation worth believing */
  for (long lag = 0; lag <= max_lag; lag++) {
    if (start + static_cast<size_t> (lag) + window > b.size ())
      break;
    const int16_t *pa = a.data () + start;
    const int16_t *pb = b.data () + start + static_cast<size_t> (lag);
    double dot = 0, energy_b = 0;
    for (size_t i = 0; i < window; i++) {
      dot += static_cast<double> (pa[i]) * pb[i];
      energy_b += static_cast<double> (pb[i]) * pb[i];
    }
    if (energy_b <= 0)
      continue;
    double score = dot / std::sqrt (energy_a * energy_b);
    if (score > best_score) {
      best_score = score;
      best = lag;
    }
  }
  return best;
}

namespace {

/* Index of the received packet holding byte @index of the received stream;
 * -1 when beyond what arrived. */
long
received_packet_at (const CallerTrace &trace, size_t index)
{
  if (trace.received.empty () || index >= trace.received.size ())
    return -1;
  auto it = std::upper_bound (trace.received_offsets.begin (), trace.received_offsets.end (), index);
  return static_cast<long> (it - trace.received_offsets.begin ()) - 1;
}

bool
uniform (const uint8_t *data, size_t len)
{
  for (size_t i = 1; i < len; i++)
    if (data[i] != data[0])
      return false;
  return true;
}

bool
hash_at (const std::vector<uint8_t> &bytes, long index, const SimChunk &chunk)
{
  if (index < 0 || static_cast<size_t> (index) + chunk.len > bytes.size ())
    return false;
  return fnv1a32 (bytes.data () + index, chunk.len) == chunk.hash;
}

/* Where @needle occurs in @haystack within [from, to); -1 if nowhere. */
long
find_bytes (const std::vector<uint8_t> &haystack, long from, long to, const uint8_t *needle,
    size_t len)
{
  from = std::max (from, 0L);
  to = std::min (to, static_cast<long> (haystack.size ()));
  if (to - from < static_cast<long> (len))
    return -1;
  auto begin = haystack.begin () + from;
  auto end = haystack.begin () + to;
  auto it = std::search (begin, end, needle, needle + len);
  return it == end ? -1 : static_cast<long> (it - haystack.begin ());
}

double
ms_between (int64_t from_ns, int64_t to_ns)
{
  return static_cast<double> (to_ns - from_ns) / 1e6;
}

void
correlate_g711 (const CallerTrace &t, const SimSessionLog &log, Correlation *c)
{
  const long max_shift = 8000;  /* one second either way */
  /* Input side: the shift that makes the first non-silent append match. */
  bool found = false;
  for (const SimChunk &chunk : log.in) {
    if (chunk.offset + chunk.len > t.sent.size ())
      break;
    if (uniform (t.sent.data () + chunk.offset, chunk.len) && hash_at (t.sent, static_cast<long> (chunk.offset), chunk))
      continue;  /* silence matches anywhere */
    for (long d = 0; d <= max_shift && !found; d++) {
      for (long shift : {d, -d}) {
        if (hash_at (t.sent, static_cast<long> (chunk.offset) + shift, chunk)) {
          const long idx = static_cast<long> (chunk.offset) + shift;
          if (uniform (t.sent.data () + idx, chunk.len))
            continue;
          c->input_shift_bytes = shift;
          found = true;
          break;
        }
      }
    }
    break;
  }
  if (!found)
    return;
  c->verified = true;
  for (const SimChunk &chunk : log.in) {
    const long first = static_cast<long> (chunk.offset) + c->input_shift_bytes;
    if (!hash_at (t.sent, first, chunk)) {
      c->in_unmatched++;
      continue;
    }
    c->in_matched++;
    const size_t packet = static_cast<size_t> (first + chunk.len - 1) / t.packet_bytes;
    if (packet < t.sent_ns.size ())
      c->to_ai_ms.push_back (ms_between (t.sent_ns[packet], chunk.t_ns));
  }

  /* Output side: echo, so output offset o carries what the caller sent at
   * o + input shift; find it in what the caller received. */
  long out_shift = 0;
  bool aligned = false;
  RealtimePlayout playout (8000);
  for (const SimChunk &chunk : log.out) {
    const int64_t ideal = playout.next (chunk);
    const long sent_index = static_cast<long> (chunk.offset) + c->input_shift_bytes;
    if (!hash_at (t.sent, sent_index, chunk)) {
      c->out_unmatched++;
      continue;
    }
    const uint8_t *content = t.sent.data () + sent_index;
    if (!aligned && uniform (content, chunk.len))
      continue;  /* silence cannot place the stream */
    long at = aligned ? static_cast<long> (chunk.offset) + out_shift : -1;
    if (!aligned || !hash_at (t.received, at, chunk)) {
      /* First placement: search from where the output could first have
       * arrived; later: near the expected place (the graph may have inserted
       * or dropped audio). */
      long from = static_cast<long> (chunk.offset) + (aligned ? out_shift - 4000 : -8000);
      long to = static_cast<long> (chunk.offset) + (aligned ? out_shift + 16000 : 80000);
      long found_at = uniform (content, chunk.len) ? -1 :
          find_bytes (t.received, from, to, content, chunk.len);
      if (found_at < 0) {
        c->out_unmatched++;
        continue;
      }
      if (aligned)
        c->out_realigned++;
      aligned = true;
      out_shift = found_at - static_cast<long> (chunk.offset);
      at = found_at;
    }
    const long packet = received_packet_at (t, static_cast<size_t> (at) + chunk.len - 1);
    if (packet < 0)
      continue;
    const int64_t arrived = t.received_ns[static_cast<size_t> (packet)];
    if (arrived < chunk.t_ns) {
      c->out_unmatched++;  /* heard before it was sent: not this chunk */
      continue;
    }
    c->out_matched++;
    if (c->first_echo_ns == 0 && !log.out.empty ()) {
      /* The first audio the server sent (silence or not), placed by the
       * first alignment. */
      const long first = static_cast<long> (log.out.front ().offset) + out_shift;
      const long first_packet = first >= 0 ? received_packet_at (t, static_cast<size_t> (first)) : -1;
      if (first_packet >= 0)
        c->first_echo_ns = t.received_ns[static_cast<size_t> (first_packet)];
    }
    c->to_caller_ms.push_back (ms_between (chunk.t_ns, arrived));
    c->to_caller_beyond_playout_ms.push_back (ms_between (ideal, arrived));
    playout.arrived (arrived);
    const size_t sent_packet = static_cast<size_t> (sent_index + chunk.len - 1) / t.packet_bytes;
    if (sent_packet < t.sent_ns.size ())
      c->round_trip_ms.push_back (ms_between (t.sent_ns[sent_packet], arrived));
  }
  c->aligned = aligned;
  c->output_shift_samples = out_shift;
}

void
correlate_pcm (const CallerTrace &t, const SimSessionLog &log, int scale, Correlation *c)
{
  /* Input side: by sample count (the graph starts before the answer, so the
   * first caller sample is the first sample the server gets). */
  for (const SimChunk &chunk : log.in) {
    const size_t last = static_cast<size_t> ((chunk.offset + chunk.len) / static_cast<uint64_t> (scale));
    if (last == 0)
      continue;
    const size_t packet = (last - 1) / t.packet_bytes;
    if (packet >= t.sent_ns.size ())
      break;
    c->in_matched++;
    c->to_ai_ms.push_back (ms_between (t.sent_ns[packet], chunk.t_ns));
  }
  /* Output side: the delay of the echo, by cross-correlation over a loud
   * stretch after the first second. */
  const size_t window = 2000;
  long lag = -1;
  for (size_t start = 8000; lag < 0 && start + window < t.sent_linear.size (); start += window)
    lag = best_lag (t.sent_linear, t.received_linear, start, window, 8000);
  if (lag < 0)
    return;
  c->aligned = true;
  c->output_shift_samples = lag;
  RealtimePlayout playout (8000 * scale);
  for (const SimChunk &chunk : log.out) {
    const int64_t ideal = playout.next (chunk);
    const size_t last = static_cast<size_t> ((chunk.offset + chunk.len) / static_cast<uint64_t> (scale));
    if (last == 0)
      continue;
    const long packet = received_packet_at (t, last - 1 + static_cast<size_t> (lag));
    if (packet < 0)
      break;
    const int64_t arrived = t.received_ns[static_cast<size_t> (packet)];
    if (arrived < chunk.t_ns) {
      /* Heard before it was sent: the graph dropped audio since the lag was
       * measured (overload), so the placement no longer holds. */
      c->out_unmatched++;
      continue;
    }
    c->out_matched++;
    if (c->first_echo_ns == 0)
      c->first_echo_ns = arrived;
    c->to_caller_ms.push_back (ms_between (chunk.t_ns, arrived));
    c->to_caller_beyond_playout_ms.push_back (ms_between (ideal, arrived));
    playout.arrived (arrived);
    const size_t sent_packet = (last - 1) / t.packet_bytes;
    if (sent_packet < t.sent_ns.size ())
      c->round_trip_ms.push_back (ms_between (t.sent_ns[sent_packet], arrived));
  }
}

}  // namespace

int64_t
RealtimePlayout::next (const SimChunk &chunk)
{
  const int64_t duration_ns = static_cast<int64_t> (chunk.len) * 1000000000 / bytes_per_second_;
  previous_ = started_ ? std::max (chunk.t_ns, previous_ + duration_ns) : chunk.t_ns;
  started_ = true;
  return previous_;
}

void
RealtimePlayout::arrived (int64_t arrived_ns)
{
  previous_ = std::min (previous_, arrived_ns);
}

Correlation
correlate (const CallerTrace &trace, const SimSessionLog &log, int sim_bytes_per_sample)
{
  Correlation c;
  if (sim_bytes_per_sample == 1)
    correlate_g711 (trace, log, &c);
  else
    correlate_pcm (trace, log, sim_bytes_per_sample, &c);
  return c;
}

}  // namespace voxbridge::bench
