#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_REALTIME_SRC (gst_realtime_src_get_type ())
G_DECLARE_FINAL_TYPE (GstRealtimeSrc, gst_realtime_src, GST, REALTIME_SRC, GstElement)

GST_ELEMENT_REGISTER_DECLARE (realtimesrc);

G_END_DECLS
