/* G.711 conversion tables, built once from the segment rules of ITU-T
 * G.711, rounding as GStreamer's mulaw/alaw elements do (the tests compare
 * every value with theirs). */
#include "g711_codec.h"

#include <array>

namespace voxbridge {

namespace {

constexpr int kBias = 0x84;     /* µ-law */

gint16
ulaw_to_linear (guint8 u)
{
  u = ~u;
  int t = ((u & 0x0f) << 3) + kBias;
  t <<= (u & 0x70) >> 4;
  return static_cast<gint16> ((u & 0x80) ? (kBias - t) : (t - kBias));
}

gint16
alaw_to_linear (guint8 a)
{
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  const int segment = (a & 0x70) >> 4;
  if (segment == 0)
    t += 8;
  else if (segment == 1)
    t += 0x108;
  else
    t = (t + 0x108) << (segment - 1);
  return static_cast<gint16> ((a & 0x80) ? t : -t);
}

/* Index of the highest set bit of @value (0 for 0 and 1). */
int
top_bit (int value)
{
  int bit = 0;
  while (value > 1) {
    value >>= 1;
    bit++;
  }
  return bit;
}

/* Sign and magnitude, bias, then exponent (segment) and 4 mantissa bits,
 * all bits inverted; what mulawenc gives. */
guint8
linear_to_ulaw (int pcm)
{
  const int sign = pcm < 0 ? 0x80 : 0;
  int magnitude = MIN (pcm < 0 ? -pcm : pcm, 32635) + kBias;
  const int exponent = top_bit (magnitude >> 7);
  const int mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return static_cast<guint8> (~(sign | (exponent << 4) | mantissa));
}

/* The magnitude's segment and 4 bits below its top, even bits inverted,
 * the sign bit set for positive samples; what alawenc gives. */
guint8
linear_to_alaw (int pcm)
{
  const int mask = pcm >= 0 ? 0xd5 : 0x55;
  const int magnitude = MIN (pcm < 0 ? -pcm : pcm, 0x7fff);
  int a;
  if (magnitude < 256) {
    a = magnitude >> 4;
  } else {
    const int segment = top_bit (magnitude >> 8) + 1;
    a = (segment << 4) | ((magnitude >> (segment + 3)) & 0x0f);
  }
  return static_cast<guint8> (a ^ mask);
}

struct Tables {
  std::array<gint16, 256> decode[2];
  std::array<guint8, 65536> encode[2];     /* indexed by the sample + 32768 */
};

const Tables &
tables ()
{
  static const Tables *built = [] {
    auto *t = new Tables;
    for (int i = 0; i < 256; i++) {
      t->decode[0][i] = ulaw_to_linear (static_cast<guint8> (i));
      t->decode[1][i] = alaw_to_linear (static_cast<guint8> (i));
    }
    for (int i = 0; i < 65536; i++) {
      t->encode[0][i] = linear_to_ulaw (i - 32768);
      t->encode[1][i] = linear_to_alaw (i - 32768);
    }
    return t;
  }();
  return *built;
}

int
index_of (G711 codec)
{
  return codec == G711::PCMU ? 0 : 1;
}

}  // namespace

void
g711_decode (G711 codec, const guint8 * in, gsize count, gint16 * out)
{
  const auto & table = tables ().decode[index_of (codec)];
  for (gsize i = 0; i < count; i++)
    out[i] = table[in[i]];
}

void
g711_encode (G711 codec, const gint16 * in, gsize count, guint8 * out)
{
  const auto & table = tables ().encode[index_of (codec)];
  for (gsize i = 0; i < count; i++)
    out[i] = table[in[i] + 32768];
}

}  // namespace voxbridge
