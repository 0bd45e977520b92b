#pragma once
/* GEnum types for realtimesink properties. */

#include <glib-object.h>

G_BEGIN_DECLS

GType voxbridge_realtime_auth_get_type (void);
GType voxbridge_realtime_turn_detection_get_type (void);
GType voxbridge_realtime_output_modality_get_type (void);
GType voxbridge_realtime_noise_reduction_get_type (void);

G_END_DECLS
