/* GoogleTest main for tests that link the realtime elements statically: they
 * are registered from this binary (not loaded from the plugin module) so a
 * test can reach the same session registry the elements use. */
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "gstrealtimesink.h"
#include "gstrealtimesrc.h"

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  GST_ELEMENT_REGISTER (realtimesink, nullptr);
  GST_ELEMENT_REGISTER (realtimesrc, nullptr);
  ::testing::InitGoogleTest (&argc, argv);
  int ret = RUN_ALL_TESTS ();
  gst_deinit ();
  return ret;
}
