#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_REALTIME_SINK (gst_realtime_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstRealtimeSink, gst_realtime_sink, GST, REALTIME_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (realtimesink);

G_END_DECLS
