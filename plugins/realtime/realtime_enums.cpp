/* GEnum registrations for realtimesink properties; values match the C++
 * enums of realtime_protocol.h / realtime_endpoint.h one to one. */
#include "realtime_enums.h"

#define DEFINE_ENUM(func, type_name, ...)                                      \
  GType func (void)                                                            \
  {                                                                            \
    static gsize id = 0;                                                       \
    static const GEnumValue values[] = {__VA_ARGS__, {0, NULL, NULL}};         \
    if (g_once_init_enter (&id))                                               \
      g_once_init_leave (&id, g_enum_register_static (type_name, values));     \
    return (GType) id;                                                         \
  }

DEFINE_ENUM (voxbridge_realtime_auth_get_type, "VoxbridgeRealtimeAuth",
    {0, "Azure hosts: api-key header; others: Authorization: Bearer", "auto"},
    {1, "Authorization: Bearer (OpenAI, Azure Entra ID token)", "bearer"},
    {2, "api-key header (Azure key)", "api-key"})

DEFINE_ENUM (voxbridge_realtime_turn_detection_get_type, "VoxbridgeRealtimeTurnDetection",
    {0, "Server VAD (silence based)", "server-vad"},
    {1, "Semantic VAD (model decides the end of turn)", "semantic-vad"},
    {2, "None (turns end at end of input)", "none"})

DEFINE_ENUM (voxbridge_realtime_output_modality_get_type, "VoxbridgeRealtimeOutputModality",
    {0, "Audio (with transcript)", "audio"},
    {1, "Text only (assist legs)", "text"})

DEFINE_ENUM (voxbridge_realtime_noise_reduction_get_type, "VoxbridgeRealtimeNoiseReduction",
    {0, "None", "none"},
    {1, "Near field (headsets, handsets)", "near-field"},
    {2, "Far field (speakerphones)", "far-field"})
