/* realtimesink sends live input as it arrives (GstBaseSink sync off) and
 * keeps a file-like (non-live) input paced; an explicit "sync" wins. Real
 * graphs with the built plugin against the off-line Realtime server. */

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "realtime_sim_process.h"

using voxbridge::test::RealtimeSimProcess;

namespace {

/* Runs 25 buffers of 20 ms into a realtimesink; returns its "sync" after EOS. */
gboolean
sync_after_run (const std::string &url, bool live, const std::string &sink_extra)
{
  static int session = 0;
  const std::string description = std::string ("audiotestsrc is-live=") +
      (live ? "true" : "false") + " num-buffers=25 samplesperbuffer=480 "
      "! audio/x-raw,format=S16LE,rate=24000,channels=1 "
      "! realtimesink name=sink session=sync-test-" + std::to_string (++session) +
      " url=\"" + url + "\" " + sink_extra;
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (description.c_str (), &err);
  EXPECT_NE (pipeline, nullptr) << (err ? err->message : "");
  g_clear_error (&err);
  if (!pipeline)
    return FALSE;
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  EXPECT_NE (msg, nullptr) << "no EOS within 10 s";
  if (msg) {
    EXPECT_EQ (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gboolean sync = FALSE;
  g_object_get (sink, "sync", &sync, nullptr);
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return sync;
}

TEST (RealtimeSinkSync, LiveInputIsSentOnArrival)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  EXPECT_FALSE (sync_after_run (sim.url (), true, ""));
}

TEST (RealtimeSinkSync, NonLiveInputStaysPaced)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  EXPECT_TRUE (sync_after_run (sim.url (), false, ""));
}

TEST (RealtimeSinkSync, AnExplicitChoiceWins)
{
  RealtimeSimProcess sim ({"--behaviour", "echo"});
  ASSERT_TRUE (sim.started ()) << sim.log ();
  EXPECT_TRUE (sync_after_run (sim.url (), true, "sync=true"));
  EXPECT_FALSE (sync_after_run (sim.url (), false, "sync=false"));
}

}  // namespace
