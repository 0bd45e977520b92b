#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIP_RTP_SRC (gst_sip_rtp_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSipRtpSrc, gst_sip_rtp_src, GST, SIP_RTP_SRC,
    GstElement)

GST_ELEMENT_REGISTER_DECLARE (siprtpsrc);

G_END_DECLS
