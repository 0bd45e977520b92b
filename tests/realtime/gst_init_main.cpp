/* GoogleTest main for tests that load the built voxbridge plugin module. */
#include <gst/gst.h>
#include <gtest/gtest.h>

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  ::testing::InitGoogleTest (&argc, argv);
  int ret = RUN_ALL_TESTS ();
  gst_deinit ();
  return ret;
}
