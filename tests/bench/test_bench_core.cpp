/* Unit tests of voxbridge-bench's pure parts: percentiles, the sim timing
 * log, the correlation of caller traces with it, RTP sequence accounting and
 * /proc parsing. */

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "barge_in_cutoff.h"
#include "launcher_events.h"
#include "bench_stats.h"
#include "process_probe.h"
#include "rtp_engine.h"
#include "timing_correlation.h"
#include "timing_log.h"

using namespace voxbridge::bench;

namespace {

constexpr int64_t kMs = 1000000;

TEST (BenchStats, NearestRankPercentiles)
{
  std::vector<double> samples;
  for (int i = 100; i >= 1; i--)
    samples.push_back (i);
  Summary s = summarize (samples);
  EXPECT_EQ (s.count, 100u);
  EXPECT_DOUBLE_EQ (s.p50, 50);
  EXPECT_DOUBLE_EQ (s.p99, 99);
  EXPECT_DOUBLE_EQ (s.max, 100);
  EXPECT_DOUBLE_EQ (s.mean, 50.5);
  EXPECT_DOUBLE_EQ (percentile ({7}, 99), 7);
  EXPECT_DOUBLE_EQ (percentile ({1, 2, 3}, 50), 2);
  EXPECT_EQ (summarize ({}).count, 0u);
  EXPECT_DOUBLE_EQ (summarize ({}).p99, 0);
}

TEST (TimingLog, HashMatchesTheSimulator)
{
  const uint8_t data[] = {1, 2, 3, 250, 0, 0xff};
  EXPECT_EQ (fnv1a32 (data, sizeof data), voxbridge::sim::fnv1a32 (data, sizeof data));
  EXPECT_EQ (fnv1a32 (nullptr, 0), 2166136261u);
}

TEST (TimingLog, Parses)
{
  std::istringstream text (
      "s1 open 100\n"
      "s1 instructions 150 bench-3\n"
      "s1 updated 160\n"
      "s1 in 200 0 160 0000abcd\n"
      "s1 updated 260\n"
      "s1 out 210 0 160 0000abcd\n"
      "s2 open 300\n"
      "s1 close 400\n");
  std::map<std::string, SimSessionLog> sessions;
  std::string error;
  ASSERT_TRUE (parse_timing_log (text, &sessions, &error)) << error;
  ASSERT_EQ (sessions.size (), 2u);
  const SimSessionLog &s1 = sessions["s1"];
  EXPECT_EQ (s1.instructions, "bench-3");
  EXPECT_EQ (s1.open_ns, 100);
  EXPECT_EQ (s1.updated_ns, 160);       /* the first session.updated: ready */
  EXPECT_EQ (sessions["s2"].updated_ns, 0);
  ASSERT_EQ (s1.in.size (), 1u);
  EXPECT_EQ (s1.in[0].t_ns, 200);
  EXPECT_EQ (s1.in[0].len, 160u);
  EXPECT_EQ (s1.in[0].hash, 0xabcdu);
  EXPECT_EQ (s1.out.size (), 1u);
}

TEST (TimingLog, RejectsMalformedLines)
{
  for (const char *bad : {"s1 in 200 0 160\n", "s1 in x 0 160 0000abcd\n",
           "s1 out 1 2 3 nothex!!\n", "s1 teleport 5\n", "s1\n", "s1 updated\n"}) {
    std::istringstream text (std::string ("s0 open 1\n") + bad);
    std::map<std::string, SimSessionLog> sessions;
    std::string error;
    EXPECT_FALSE (parse_timing_log (text, &sessions, &error)) << bad;
    EXPECT_NE (error.find ("line 2"), std::string::npos) << error;
  }
}

/* A caller that sent @packets of noise-like G.711 every 20 ms; the server got
 * each packet 65 ms after it was sent (@dropped first packets never reached
 * it), echoed it 1 ms later, and the echo reached the caller 5 ms after that,
 * behind @lead_silence packets of silence. */
struct EchoScenario {
  CallerTrace trace;
  SimSessionLog log;
};

EchoScenario
make_echo (size_t packets, size_t dropped, size_t lead_silence, size_t insert_silence_at = 0)
{
  EchoScenario s;
  std::mt19937 random (42);
  for (size_t p = 0; p < packets; p++) {
    for (size_t i = 0; i < 160; i++)
      s.trace.sent.push_back (static_cast<uint8_t> (random () & 0x7f));
    s.trace.sent_ns.push_back (static_cast<int64_t> (p) * 20 * kMs);
  }
  std::vector<uint8_t> silence (160, 0xff);
  auto receive = [&] (const uint8_t *bytes, int64_t t) {
    s.trace.received_offsets.push_back (s.trace.received.size ());
    s.trace.received_ns.push_back (t);
    s.trace.received.insert (s.trace.received.end (), bytes, bytes + 160);
  };
  for (size_t p = 0; p < lead_silence; p++)
    receive (silence.data (), static_cast<int64_t> (p) * 20 * kMs);
  for (size_t p = dropped; p < packets; p++) {
    const uint8_t *bytes = s.trace.sent.data () + p * 160;
    const uint64_t offset = (p - dropped) * 160;
    const int64_t t_in = s.trace.sent_ns[p] + 65 * kMs;
    s.log.in.push_back ({t_in, offset, 160, fnv1a32 (bytes, 160)});
    s.log.out.push_back ({t_in + 1 * kMs, offset, 160, fnv1a32 (bytes, 160)});
    if (insert_silence_at != 0 && p == insert_silence_at)
      receive (silence.data (), t_in + 5 * kMs);  /* an underrun filled by the graph */
    receive (bytes, t_in + 6 * kMs);
  }
  return s;
}

TEST (Correlation, G711MatchesEveryChunkByContent)
{
  EchoScenario s = make_echo (100, 0, 4);
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_TRUE (c.verified);
  EXPECT_TRUE (c.aligned);
  EXPECT_EQ (c.input_shift_bytes, 0);
  EXPECT_EQ (c.in_matched, 100u);
  EXPECT_EQ (c.in_unmatched, 0u);
  EXPECT_EQ (c.out_matched, 100u);
  EXPECT_EQ (c.output_shift_samples, 4 * 160);
  Summary to_ai = summarize (c.to_ai_ms), to_caller = summarize (c.to_caller_ms),
          rtt = summarize (c.round_trip_ms);
  EXPECT_DOUBLE_EQ (to_ai.p50, 65);
  EXPECT_DOUBLE_EQ (to_ai.max, 65);
  EXPECT_DOUBLE_EQ (to_caller.p50, 5);
  EXPECT_DOUBLE_EQ (rtt.p99, 71);
  EXPECT_EQ (c.first_echo_ns, 65 * kMs + 6 * kMs);
}

TEST (Correlation, G711FindsAudioTheGraphDidNotForward)
{
  /* The first 3 packets never reached the server: its offset 0 is the
   * caller's byte 480. */
  EchoScenario s = make_echo (60, 3, 2);
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_TRUE (c.verified);
  EXPECT_EQ (c.input_shift_bytes, 480);
  EXPECT_EQ (c.in_matched, 57u);
  EXPECT_DOUBLE_EQ (summarize (c.to_ai_ms).max, 65);
  EXPECT_DOUBLE_EQ (summarize (c.round_trip_ms).max, 71);
}

TEST (Correlation, G711RealignsAfterInsertedSilence)
{
  EchoScenario s = make_echo (80, 0, 1, 40);
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_EQ (c.out_realigned, 1u);
  EXPECT_EQ (c.out_matched, 80u);
  EXPECT_EQ (c.out_unmatched, 0u);
  EXPECT_DOUBLE_EQ (summarize (c.to_caller_ms).max, 5);
}

TEST (Correlation, NothingMatchesForeignAudio)
{
  EchoScenario s = make_echo (30, 0, 1);
  EchoScenario other = make_echo (30, 0, 1);
  for (auto &byte : other.trace.sent)
    byte ^= 0x55;
  Correlation c = correlate (other.trace, s.log, 1);
  EXPECT_FALSE (c.verified);
  EXPECT_TRUE (c.to_ai_ms.empty ());
  EXPECT_TRUE (c.to_caller_ms.empty ());
}

TEST (Correlation, BestLagFindsADelayedCopy)
{
  std::mt19937 random (7);
  std::vector<int16_t> a (20000), b (20000, 0);
  for (auto &x : a)
    x = static_cast<int16_t> (static_cast<int> (random () % 20000) - 10000);
  for (size_t i = 0; i + 333 < b.size (); i++)
    b[i + 333] = static_cast<int16_t> (a[i] / 2);  /* quieter and late */
  EXPECT_EQ (best_lag (a, b, 8000, 2000, 4000), 333);
  std::vector<int16_t> quiet (20000, 3);
  EXPECT_EQ (best_lag (quiet, b, 8000, 2000, 4000), -1);
  EXPECT_EQ (best_lag (a, b, 19000, 2000, 4000), -1);  /* window does not fit */
}

TEST (Correlation, Pcm24kPlacesBySamplesAndCorrelation)
{
  /* 8 kHz caller audio; the server sees 24 kHz S16 (6 bytes per caller
   * sample); the echo comes back 400 samples (50 ms) later. */
  std::mt19937 random (3);
  CallerTrace t;
  const size_t packets = 150;
  for (size_t p = 0; p < packets; p++) {
    t.sent_ns.push_back (static_cast<int64_t> (p) * 20 * kMs);
    for (size_t i = 0; i < 160; i++) {
      t.sent.push_back (0);
      t.sent_linear.push_back (static_cast<int16_t> (static_cast<int> (random () % 16000) - 8000));
    }
  }
  SimSessionLog log;
  for (size_t p = 0; p < packets; p++) {
    const int64_t t_in = t.sent_ns[p] + 62 * kMs;
    log.in.push_back ({t_in, p * 960, 960, 0});
    log.out.push_back ({t_in + kMs, p * 960, 960, 0});
  }
  for (size_t p = 0; p < packets + 3; p++) {
    t.received_offsets.push_back (p * 160);
    t.received_ns.push_back (static_cast<int64_t> (p) * 20 * kMs + 13 * kMs);
    for (size_t i = 0; i < 160; i++) {
      const size_t index = p * 160 + i;
      t.received.push_back (0);
      t.received_linear.push_back (index >= 400 && index - 400 < t.sent_linear.size () ?
          t.sent_linear[index - 400] : 0);
    }
  }
  Correlation c = correlate (t, log, 6);
  EXPECT_FALSE (c.verified);
  ASSERT_TRUE (c.aligned);
  EXPECT_EQ (c.output_shift_samples, 400);
  EXPECT_EQ (c.in_matched, packets);
  EXPECT_DOUBLE_EQ (summarize (c.to_ai_ms).p50, 62);
  /* Sample 400 after a packet's last sample lands 2.5 packets later. */
  EXPECT_FALSE (c.to_caller_ms.empty ());
  EXPECT_GT (summarize (c.round_trip_ms).p50, 50);
  EXPECT_LT (summarize (c.round_trip_ms).p50, 80);
  /* Deltas 20 ms of audio each, 20 ms apart: nothing queues, so beyond
   * real-time playout is the whole latency, delta by delta. */
  ASSERT_EQ (c.to_caller_beyond_playout_ms.size (), c.to_caller_ms.size ());
  for (size_t i = 0; i < c.to_caller_ms.size (); i++)
    EXPECT_DOUBLE_EQ (c.to_caller_beyond_playout_ms[i], c.to_caller_ms[i]) << i;
}

/* Server output chunks of @len bytes, back to back, sent at @sent_ms. */
std::vector<SimChunk>
chunks_sent_at (const std::vector<int64_t> &sent_ms, uint32_t len = 160)
{
  std::vector<SimChunk> out;
  for (size_t k = 0; k < sent_ms.size (); k++)
    out.push_back ({sent_ms[k] * kMs, k * len, len, 0});
  return out;
}

/* The ideal times (ms) of @out when no packet is known to have arrived. */
std::vector<int64_t>
schedule_ms (const std::vector<SimChunk> &out, int64_t bytes_per_second)
{
  RealtimePlayout playout (bytes_per_second);
  std::vector<int64_t> ms;
  for (const SimChunk &chunk : out)
    ms.push_back (playout.next (chunk) / kMs);
  return ms;
}

TEST (PlayoutSchedule, BurstQueuesBehindEarlierAudioForGood)
{
  /* Steady, then a stall holds four deltas back to 140 ms; the echo keeps
   * talking in step, so the queue they formed never drains. */
  std::vector<int64_t> ideal = schedule_ms (
      chunks_sent_at ({0, 20, 40, 140, 140, 140, 140, 160, 180, 200}), 8000);
  EXPECT_EQ (ideal, (std::vector<int64_t> {0, 20, 40, 140, 160, 180, 200, 220, 240, 260}));
}

TEST (PlayoutSchedule, PauseRestartsFromTheSendTimes)
{
  std::vector<int64_t> ideal = schedule_ms (
      chunks_sent_at ({0, 0, 0, 500, 500, 530}), 8000);
  EXPECT_EQ (ideal, (std::vector<int64_t> {0, 20, 40, 500, 520, 540}));
}

TEST (PlayoutSchedule, DurationFollowsTheFormat)
{
  /* 24 kHz S16: 960 bytes are 20 ms, 2400 bytes 50 ms. */
  std::vector<SimChunk> out = chunks_sent_at ({0, 0, 0}, 960);
  out[1].len = 2400;
  EXPECT_EQ (schedule_ms (out, 48000), (std::vector<int64_t> {0, 50, 70}));
}

/* A G.711 echo, one 160-byte delta per caller packet: the server sent
 * delta k at @sent_ms[k] and its packet reached the caller at
 * @arrived_ms[k], behind one packet of silence. */
EchoScenario
make_timed_echo (const std::vector<int64_t> &sent_ms, const std::vector<int64_t> &arrived_ms)
{
  EchoScenario s;
  std::mt19937 random (11);
  std::vector<uint8_t> silence (160, 0xff);
  s.trace.received_offsets.push_back (0);
  s.trace.received_ns.push_back (0);
  s.trace.received = silence;
  for (size_t k = 0; k < sent_ms.size (); k++) {
    const size_t first = s.trace.sent.size ();
    for (size_t i = 0; i < 160; i++)
      s.trace.sent.push_back (static_cast<uint8_t> (random () & 0x7f));
    s.trace.sent_ns.push_back (static_cast<int64_t> (k) * 20 * kMs);
    const uint8_t *bytes = s.trace.sent.data () + first;
    const uint32_t hash = fnv1a32 (bytes, 160);
    s.log.in.push_back ({sent_ms[k] * kMs, first, 160, hash});
    s.log.out.push_back ({sent_ms[k] * kMs, first, 160, hash});
    s.trace.received_offsets.push_back (s.trace.received.size ());
    s.trace.received_ns.push_back (arrived_ms[k] * kMs);
    s.trace.received.insert (s.trace.received.end (), bytes, bytes + 160);
  }
  return s;
}

TEST (Correlation, BeyondPlayoutLeavesOutTheQueueOfABurst)
{
  /* Four deltas bunched at 140 ms, then the echo in step; the launcher
   * plays them at real time, 1 ms after a perfect player would. */
  EchoScenario s = make_timed_echo ({100, 120, 140, 140, 140, 140, 160, 180},
      {101, 121, 141, 161, 181, 201, 221, 241});
  Correlation c = correlate (s.trace, s.log, 1);
  ASSERT_EQ (c.out_matched, 8u);
  EXPECT_EQ (c.to_caller_ms, (std::vector<double> {1, 1, 1, 21, 41, 61, 61, 61}));
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> (8, 1.0)));
}

TEST (Correlation, BeyondPlayoutKeepsTheLauncherLateness)
{
  /* Steady deltas; packet 3 leaves 7 ms late, the next one on time again:
   * the ideal schedule does not follow what actually arrived. */
  EchoScenario s = make_timed_echo ({100, 120, 140, 160, 180, 200},
      {100, 120, 140, 167, 180, 200});
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> {0, 0, 0, 7, 0, 0}));

  /* Late for good: a stall of the launcher itself is not forgiven. */
  s = make_timed_echo ({100, 120, 140, 160}, {100, 150, 170, 190});
  c = correlate (s.trace, s.log, 1);
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> {0, 30, 30, 30}));
}

TEST (Correlation, BeyondPlayoutRestartsAfterAPause)
{
  /* A queue of two packets, a pause, then deltas in step again: the
   * schedule starts from their send times, not behind the old queue. */
  EchoScenario s = make_timed_echo ({100, 100, 100, 400, 420},
      {100, 120, 140, 402, 422});
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> {0, 0, 0, 2, 2}));
  EXPECT_EQ (c.to_caller_ms, (std::vector<double> {0, 20, 40, 2, 2}));
}

TEST (Correlation, BeyondPlayoutIsNegativeWhenPlayedFasterThanRealTime)
{
  /* Three deltas in a burst all delivered at once (the launcher dropped or
   * rushed audio): reported as is, not clamped at 0. */
  EchoScenario s = make_timed_echo ({100, 100, 100}, {101, 101, 101});
  Correlation c = correlate (s.trace, s.log, 1);
  /* Each from a ptime after the one before it really left. */
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> {1, -19, -20}));
}

TEST (Correlation, BeyondPlayoutFollowsALauncherThatCatchesUp)
{
  /* One delta of the server 5 ms late; the launcher sends the next one on
   * its talk-spurt's schedule, 5 ms sooner than a strict player would, and
   * is back in step: the schedule does not keep the server's 5 ms. */
  EchoScenario s = make_timed_echo ({100, 125, 140, 160, 180, 200},
      {100, 125, 140, 160, 180, 203});
  Correlation c = correlate (s.trace, s.log, 1);
  EXPECT_EQ (c.to_caller_beyond_playout_ms, (std::vector<double> {0, 0, -5, 0, 0, 3}));
}

/* A caller's received stream, a packet every 20 ms from 0: @speaking
 * says which carry the model's audio (the rest is PCMU silence). */
CallerTrace
received_stream (const std::vector<bool> & speaking)
{
  CallerTrace t;
  for (size_t p = 0; p < speaking.size (); p++) {
    t.received_offsets.push_back (t.received.size ());
    t.received_ns.push_back (static_cast<int64_t> (p) * 20 * kMs);
    for (size_t i = 0; i < 160; i++)
      t.received.push_back (speaking[p] ? static_cast<uint8_t> (0x20 + i % 7) : 0xff);
  }
  return t;
}

TEST (BargeInCutoff, LastSpeakingPacketAfterSpeechStarted)
{
  /* The answer plays from packet 10; speech_started at 405 ms (packet 20
   * arrived at 400 ms); the answer's last packet arrives at 420 ms. */
  std::vector<bool> speaking (100, false);
  for (size_t p = 10; p <= 21; p++)
    speaking[p] = true;
  SimSessionLog log;
  log.speech_started_ns = {405 * kMs};
  BargeInCutoffs r = barge_in_cutoffs (received_stream (speaking), log);
  ASSERT_EQ (r.cutoff_ms.size (), 1u);
  EXPECT_DOUBLE_EQ (r.cutoff_ms[0], 15.0);
  EXPECT_EQ (r.idle_speech_starts, 0u);
}

TEST (BargeInCutoff, NextAnswerIsNotPartOfTheInterruptedOne)
{
  /* The next answer's first delta leaves the server at 600 ms: its audio
   * (from 640 ms) must not count as the interrupted answer going on. */
  std::vector<bool> speaking (100, false);
  for (size_t p = 10; p <= 20; p++)
    speaking[p] = true;
  for (size_t p = 32; p < 60; p++)
    speaking[p] = true;
  SimSessionLog log;
  log.speech_started_ns = {410 * kMs};
  log.out.push_back ({100 * kMs, 0, 800, 0});   /* the interrupted answer */
  log.out.push_back ({600 * kMs, 800, 800, 0});  /* the next one */
  BargeInCutoffs r = barge_in_cutoffs (received_stream (speaking), log);
  ASSERT_EQ (r.cutoff_ms.size (), 1u);
  EXPECT_DOUBLE_EQ (r.cutoff_ms[0], -10.0);   /* the last packet came before the event */
}

TEST (BargeInCutoff, SpeechStartedWhileNothingPlaysIsNotAnInterruption)
{
  std::vector<bool> speaking (100, false);
  for (size_t p = 10; p <= 20; p++)
    speaking[p] = true;
  SimSessionLog log;
  log.speech_started_ns = {1000 * kMs, 50 * kMs};
  BargeInCutoffs r = barge_in_cutoffs (received_stream (speaking), log);
  EXPECT_TRUE (r.cutoff_ms.empty ());
  EXPECT_EQ (r.idle_speech_starts, 2u);
}

TEST (TimingLog, ReadsSpeechStarted)
{
  std::istringstream text ("sess_1 open 5\nsess_1 speech_started 1234\n"
      "sess_1 speech_started 99\n");
  std::map<std::string, SimSessionLog> sessions;
  std::string error;
  ASSERT_TRUE (parse_timing_log (text, &sessions, &error)) << error;
  EXPECT_EQ (sessions["sess_1"].speech_started_ns, (std::vector<int64_t> {1234, 99}));
  std::istringstream bad ("sess_1 speech_started x\n");
  EXPECT_FALSE (parse_timing_log (bad, &sessions, &error));
}

TEST (RtpAccounting, CountsLostLateAndDuplicates)
{
  RtpStream s;
  for (uint16_t seq : {10, 11, 13, 12, 13, 15})
    account_sequence (&s, seq);
  EXPECT_EQ (s.stats.packets, 5u);
  EXPECT_EQ (s.stats.duplicates, 1u);
  EXPECT_EQ (s.stats.late, 1u);   /* 12 after 13 */
  EXPECT_EQ (s.stats.lost, 1u);   /* 14 */
}

TEST (RtpAccounting, SurvivesSequenceWrap)
{
  RtpStream s;
  for (uint32_t i = 0; i < 10; i++)
    EXPECT_TRUE (account_sequence (&s, static_cast<uint16_t> (65530 + i)));
  EXPECT_EQ (s.stats.packets, 10u);
  EXPECT_EQ (s.stats.lost, 0u);
  EXPECT_EQ (s.stats.late, 0u);
}

TEST (ProcessProbe, ParsesStatAndStatus)
{
  const std::string stat =
      "1234 (voxbridge (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
  const std::string status = "Name:\tvoxbridge\nVmRSS:\t  20480 kB\nThreads:\t9\n";
  ProcessSample s = parse_process_sample (stat, status, 100);
  ASSERT_TRUE (s.ok);
  EXPECT_DOUBLE_EQ (s.cpu_s, 3.0);
  EXPECT_EQ (s.rss_kib, 20480);
  EXPECT_EQ (s.threads, 9);
  EXPECT_FALSE (parse_process_sample ("garbage", status, 100).ok);
  EXPECT_FALSE (parse_process_sample (stat, "Name:\tx\n", 100).ok);
}

TEST (LauncherEvents, AiConnectTimeByCaller)
{
  std::istringstream log (
      R"({"time":"t","event":"call.started","call_id":"a1","from":"sip:bench-0@127.0.0.1:5000","route":"bench"})" "\n"
      R"({"time":"t","event":"call.started","call_id":"b2","from":"sip:bench-1@127.0.0.1:5000"})" "\n"
      R"({"time":"t","event":"call.answered","call_id":"b2","codec":"PCMU","ai_connect_ms":"12.5"})" "\n"
      "not json at all\n"
      R"({"time":"t","event":"call.answered","call_id":"a1","codec":"PCMU","ai_connect_ms":"3.0"})" "\n"
      /* No AI waited for, a broken value, an unknown call: left out. */
      R"({"time":"t","event":"call.started","call_id":"c3","from":"sips:bench-2@h"})" "\n"
      R"({"time":"t","event":"call.answered","call_id":"c3","codec":"PCMU"})" "\n"
      R"({"time":"t","event":"call.answered","call_id":"zz","ai_connect_ms":"1"})" "\n"
      R"({"time":"t","event":"call.started","call_id":"d4","from":"sip:bench-3@h"})" "\n"
      R"({"time":"t","event":"call.answered","call_id":"d4","ai_connect_ms":"5x"})" "\n"
      "[1, 2]\n");
  size_t skipped = 0;
  std::map<std::string, double> ms = ai_connect_ms_by_caller (log, &skipped);
  EXPECT_EQ (ms, (std::map<std::string, double> {{"bench-0", 3.0}, {"bench-1", 12.5}}));
  EXPECT_EQ (skipped, 2u);
}

TEST (ProcessProbe, ReadsThisProcess)
{
  ProcessSample s = sample_process (getpid ());
  ASSERT_TRUE (s.ok);
  EXPECT_GT (s.rss_kib, 0);
  EXPECT_GE (s.threads, 1);
}

}  // namespace
