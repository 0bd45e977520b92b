/* DtmfCollector (keys grouped into one message for the model) and
 * CallerSilence (prompt once, then goodbye and hang-up) on a real GLib main
 * context with short timeouts. The assertions are about order and counts;
 * the waits only bound how long a broken build can take. */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "caller_silence.h"
#include "dtmf_collector.h"

using namespace voxbridge::launcher;

namespace {

/* Runs the default main context until @done or 5 s. */
template <typename Pred>
bool
run_until (Pred done)
{
  const gint64 limit = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!done () && g_get_monotonic_time () < limit)
    g_main_context_iteration (nullptr, TRUE);
  return done ();
}

/* Lets pending timers of about @ms fire (or not). */
void
spin_for (guint ms)
{
  bool elapsed = false;
  g_timeout_add (ms, [] (gpointer data) -> gboolean {
        *static_cast<bool *> (data) = true;
        return G_SOURCE_REMOVE;
      }, &elapsed);
  run_until ([&] { return elapsed; });
}

TEST (DtmfCollector, KeysWithinTheInterDigitTimeBecomeOneMessage)
{
  std::vector<std::string> got;
  DtmfCollector collector (60, [&] (const std::string & keys) { got.push_back (keys); });
  EXPECT_TRUE (collector.add ('1'));
  EXPECT_TRUE (collector.add ('2'));
  EXPECT_TRUE (collector.add ('3'));
  EXPECT_TRUE (got.empty ());
  ASSERT_TRUE (run_until ([&] { return !got.empty (); }));
  ASSERT_EQ (got.size (), 1u);
  EXPECT_EQ (got[0], "1 2 3");
  EXPECT_TRUE (collector.pending ().empty ());
}

TEST (DtmfCollector, HashEndsTheEntryAtOnce)
{
  std::vector<std::string> got;
  DtmfCollector collector (10000, [&] (const std::string & keys) { got.push_back (keys); });
  collector.add ('4');
  collector.add ('2');
  collector.add ('#');
  ASSERT_EQ (got.size (), 1u);
  EXPECT_EQ (got[0], "4 2 #");
  collector.add ('*');
  EXPECT_EQ (got.size (), 1u);
  collector.flush ();
  ASSERT_EQ (got.size (), 2u);
  EXPECT_EQ (got[1], "*");
}

TEST (DtmfCollector, ZeroInterDigitTimeDeliversEachKey)
{
  std::vector<std::string> got;
  DtmfCollector collector (0, [&] (const std::string & keys) { got.push_back (keys); });
  collector.add ('5');
  collector.add ('D');
  EXPECT_EQ (got, (std::vector<std::string> {"5", "D"}));
}

TEST (DtmfCollector, RejectsWhatIsNoKey)
{
  std::vector<std::string> got;
  DtmfCollector collector (0, [&] (const std::string & keys) { got.push_back (keys); });
  EXPECT_FALSE (collector.add ('x'));
  EXPECT_FALSE (collector.add ('\0'));
  EXPECT_FALSE (collector.add ('e'));
  collector.flush ();
  EXPECT_TRUE (got.empty ());
}

TEST (DtmfCollector, DestroyedWithPendingKeysDeliversNothing)
{
  std::vector<std::string> got;
  {
    DtmfCollector collector (30, [&] (const std::string & keys) { got.push_back (keys); });
    collector.add ('9');
  }
  spin_for (80);
  EXPECT_TRUE (got.empty ());
}

TEST (DtmfMessage, NamesTheKeys)
{
  EXPECT_EQ (dtmf_message_for_model ("5"), "[The caller pressed the key 5 on the phone keypad.]");
  EXPECT_EQ (dtmf_message_for_model ("1 2 #"),
      "[The caller pressed the keys 1 2 # on the phone keypad.]");
}

struct SilenceProbe {
  std::vector<std::string> asked;
  int hang_ups = 0;
  guint64 queued = 0;

  CallerSilence::Actions actions ()
  {
    return {
      [this] (const std::string & text) { asked.push_back (text); },
      [this] () { return queued; },
      [this] () { hang_ups++; },
    };
  }
};

TEST (CallerSilence, PromptsOnceThenSaysGoodbyeAndHangsUp)
{
  SilenceProbe probe;
  CallerSilence silence (40, probe.actions ());
  silence.start ();
  ASSERT_TRUE (run_until ([&] { return probe.asked.size () == 1; }));
  EXPECT_EQ (probe.asked[0], kSilencePromptInstruction);
  EXPECT_EQ (silence.prompts (), 1u);
  /* The model asks "are you still there?"; the caller says nothing. */
  silence.model_started ();
  silence.model_finished ();
  ASSERT_TRUE (run_until ([&] { return probe.asked.size () == 2; }));
  EXPECT_EQ (probe.asked[1], kSilenceGoodbyeInstruction);
  EXPECT_TRUE (silence.saying_goodbye ());
  EXPECT_EQ (probe.hang_ups, 0);
  /* The goodbye plays, then the call ends once. */
  silence.model_started ();
  silence.model_finished ();
  ASSERT_TRUE (run_until ([&] { return probe.hang_ups == 1; }));
  spin_for (100);
  EXPECT_EQ (probe.hang_ups, 1);
  EXPECT_EQ (probe.asked.size (), 2u);
}

TEST (CallerSilence, TheCallerSpeakingStartsOver)
{
  SilenceProbe probe;
  CallerSilence silence (40, probe.actions ());
  silence.start ();
  ASSERT_TRUE (run_until ([&] { return probe.asked.size () == 1; }));
  /* The caller answers the prompt: the next silence prompts again. */
  silence.caller_active ();
  silence.model_started ();
  silence.model_finished ();
  ASSERT_TRUE (run_until ([&] { return probe.asked.size () == 2; }));
  EXPECT_EQ (probe.asked[1], kSilencePromptInstruction);
  EXPECT_EQ (silence.prompts (), 2u);
  EXPECT_EQ (probe.hang_ups, 0);
}

TEST (CallerSilence, NoClockWhileTheModelSpeaksOrTheCallerTalks)
{
  SilenceProbe probe;
  CallerSilence silence (30, probe.actions ());
  silence.start ();
  silence.model_started ();   /* e.g. the greeting */
  spin_for (120);
  EXPECT_TRUE (probe.asked.empty ());
  silence.model_finished ();
  silence.caller_active ();   /* the caller speaks before the time is up */
  spin_for (120);
  EXPECT_TRUE (probe.asked.empty ());
}

TEST (CallerSilence, WaitsForTheQueuedAnswerToPlay)
{
  SilenceProbe probe;
  CallerSilence silence (20, probe.actions ());
  probe.queued = 250;   /* the answer still plays for 250 ms */
  silence.model_started ();
  const gint64 finished_at = g_get_monotonic_time ();
  silence.model_finished ();
  ASSERT_TRUE (run_until ([&] { return probe.asked.size () == 1; }));
  /* Ordering, not speed: the prompt cannot come before the audio played. */
  EXPECT_GE (g_get_monotonic_time () - finished_at, 250 * 1000);
}

TEST (CallerSilence, ZeroTimeoutIsOff)
{
  SilenceProbe probe;
  CallerSilence silence (0, probe.actions ());
  silence.start ();
  silence.model_finished ();
  spin_for (60);
  EXPECT_TRUE (probe.asked.empty ());
}

TEST (CallerSilence, AMuteModelStillEndsTheCall)
{
  SilenceProbe probe;
  CallerSilence silence (30, probe.actions (), 60);
  silence.start ();
  /* Neither the prompt nor the goodbye get an answer. */
  ASSERT_TRUE (run_until ([&] { return probe.hang_ups == 1; }));
  EXPECT_EQ (probe.asked.size (), 2u);
}

}  // namespace
