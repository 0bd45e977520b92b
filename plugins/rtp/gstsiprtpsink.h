#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIP_RTP_SINK (gst_sip_rtp_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstSipRtpSink, gst_sip_rtp_sink, GST, SIP_RTP_SINK,
    GstElement)

GST_ELEMENT_REGISTER_DECLARE (siprtpsink);

G_END_DECLS
