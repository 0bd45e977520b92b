#pragma once

/* Audio formats of the Realtime protocol and conversion between them.
 *
 * Inside the sim all audio is "canonical": S16 mono at 24 kHz, the rate of the
 * protocol's audio/pcm. Input is decoded to canonical on arrival, output is
 * encoded from canonical just before it is sent. G.711 uses spandsp,
 * resampling uses GstAudioResampler. */

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <json-glib/json-glib.h>

namespace voxbridge::sim {

constexpr int kCanonicalRate = 24000;

enum class AudioEncoding { kPcm16, kPcmu, kPcma };

struct AudioFormat {
  AudioEncoding encoding = AudioEncoding::kPcm16;

  int rate () const { return encoding == AudioEncoding::kPcm16 ? kCanonicalRate : 8000; }
  int bytes_per_sample () const { return encoding == AudioEncoding::kPcm16 ? 2 : 1; }
  /* Bytes of this format that carry one millisecond of audio. */
  int bytes_per_ms () const { return rate () / 1000 * bytes_per_sample (); }
  const char *type_name () const;
  bool operator== (const AudioFormat &other) const { return encoding == other.encoding; }
  bool operator!= (const AudioFormat &other) const { return !(*this == other); }
};

/* Parses {type:"audio/pcm",rate:24000} / {type:"audio/pcmu"} / {type:"audio/pcma"}.
 * On failure returns false and names the offending member ("type" or "rate")
 * in @bad_member and a human readable reason in @message. */
bool audio_format_from_json (JsonObject *obj, AudioFormat *out, std::string *bad_member,
    std::string *message);
JsonNode *audio_format_to_json (const AudioFormat &format);

/* Streaming sample-rate converter for S16 mono (keeps filter state between
 * calls so consecutive chunks join without clicks). */
class Resampler {
 public:
  Resampler (int in_rate, int out_rate);
  ~Resampler ();
  Resampler (const Resampler &) = delete;
  Resampler &operator= (const Resampler &) = delete;

  std::vector<int16_t> process (const int16_t *samples, size_t n_samples);
  /* Pushes silence through the filter so the tail of the signal comes out. */
  std::vector<int16_t> drain ();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/* One-shot conversion of a complete signal (filter delay removed by draining). */
std::vector<int16_t> resample_all (const std::vector<int16_t> &samples, int in_rate, int out_rate);

/* Decodes one stream of one format to canonical audio. */
class AudioDecoder {
 public:
  explicit AudioDecoder (AudioFormat format);
  AudioFormat format () const { return format_; }
  /* Odd trailing bytes of S16 input are kept for the next call. */
  std::vector<int16_t> decode (const uint8_t *data, size_t len);

 private:
  AudioFormat format_;
  std::unique_ptr<Resampler> upsampler_;
  std::vector<uint8_t> pending_byte_;
};

/* Encodes canonical audio to one stream of one format. */
class AudioEncoder {
 public:
  explicit AudioEncoder (AudioFormat format);
  AudioFormat format () const { return format_; }
  std::vector<uint8_t> encode (const int16_t *samples, size_t n_samples);
  /* Flushes the resampler delay (G.711 formats); call at end of a stream. */
  std::vector<uint8_t> finish ();

 private:
  std::vector<uint8_t> compand (const std::vector<int16_t> &samples_8k) const;

  AudioFormat format_;
  std::unique_ptr<Resampler> downsampler_;
};

/* Complete canonical signal → bytes of @format (with resampler drain). */
std::vector<uint8_t> encode_all (const std::vector<int16_t> &canonical, AudioFormat format);

/* Duration in ms of @n_bytes of @format. */
inline int64_t
bytes_to_ms (size_t n_bytes, AudioFormat format)
{
  return static_cast<int64_t> (n_bytes) / format.bytes_per_ms ();
}

}  // namespace voxbridge::sim
