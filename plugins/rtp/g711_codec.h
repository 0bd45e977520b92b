#pragma once
/* G.711 µ-law / A-law ↔ 16-bit linear PCM (ITU-T G.711), so that siprtpsrc
 * and siprtpsink can carry audio/x-raw themselves. With mulawdec/mulawenc
 * around a resampler, their GstAudioDecoder/GstAudioEncoder base classes
 * cost about 9 % of the launcher's CPU per 24 kHz call (perf, 100 calls) for
 * what is a table lookup per sample. */

#include <glib.h>

#include "siprtp_binding.h"

namespace voxbridge {

/* @count G.711 bytes → @count samples. */
void g711_decode (G711 codec, const guint8 * in, gsize count, gint16 * out);
/* @count samples → @count G.711 bytes. */
void g711_encode (G711 codec, const gint16 * in, gsize count, guint8 * out);

}  // namespace voxbridge
