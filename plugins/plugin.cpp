/* The voxbridge GStreamer plugin: registers the elements, nothing else. */
#include <gst/gst.h>

#include "voxbridge-plugin-config.h"

#ifdef VOXBRIDGE_HAVE_REALTIME
#include "realtime/gstrealtimesink.h"
#include "realtime/gstrealtimesrc.h"
#endif
#ifdef VOXBRIDGE_HAVE_SIPRTP
#include "rtp/gstsiprtpsrc.h"
#include "rtp/gstsiprtpsink.h"
#endif
#ifdef VOXBRIDGE_HAVE_RECORD
#include "record/gstcallrecorder.h"
#endif

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = FALSE;
#ifdef VOXBRIDGE_HAVE_REALTIME
  ok |= GST_ELEMENT_REGISTER (realtimesink, plugin);
  ok |= GST_ELEMENT_REGISTER (realtimesrc, plugin);
#endif
#ifdef VOXBRIDGE_HAVE_SIPRTP
  ok |= GST_ELEMENT_REGISTER (siprtpsrc, plugin);
  ok |= GST_ELEMENT_REGISTER (siprtpsink, plugin);
#endif
#ifdef VOXBRIDGE_HAVE_RECORD
  ok |= GST_ELEMENT_REGISTER (callrecorder, plugin);
#endif
  return ok;
}

#define PACKAGE "voxbridge"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, voxbridge,
    "Bridges telephone calls to realtime voice AI", plugin_init, "0.1.0",
    "LGPL", "voxbridge", "https://github.com/voxbridge/voxbridge")
