#include "audio_format.h"

#include <cstring>

#include <gst/audio/audio.h>
/* spandsp's g711.h uses top_bit() without including its declaration. */
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace voxbridge::sim {

const char *
AudioFormat::type_name () const
{
  switch (encoding) {
    case AudioEncoding::kPcm16:
      return "audio/pcm";
    case AudioEncoding::kPcmu:
      return "audio/pcmu";
    case AudioEncoding::kPcma:
      return "audio/pcma";
  }
  return "audio/pcm";
}

bool
audio_format_from_json (JsonObject *obj, AudioFormat *out, std::string *bad_member,
    std::string *message)
{
  JsonNode *type_node = json_object_get_member (obj, "type");
  if (!type_node || !JSON_NODE_HOLDS_VALUE (type_node) ||
      json_node_get_value_type (type_node) != G_TYPE_STRING) {
    *bad_member = "type";
    *message = "Missing or non-string audio format type.";
    return false;
  }
  std::string type = json_node_get_string (type_node);
  AudioFormat format;
  if (type == "audio/pcm")
    format.encoding = AudioEncoding::kPcm16;
  else if (type == "audio/pcmu")
    format.encoding = AudioEncoding::kPcmu;
  else if (type == "audio/pcma")
    format.encoding = AudioEncoding::kPcma;
  else {
    *bad_member = "type";
    *message = "Invalid value: '" + type +
        "'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.";
    return false;
  }

  if (json_object_has_member (obj, "rate")) {
    JsonNode *rate = json_object_get_member (obj, "rate");
    bool is_number = JSON_NODE_HOLDS_VALUE (rate) &&
        (json_node_get_value_type (rate) == G_TYPE_INT64 ||
            json_node_get_value_type (rate) == G_TYPE_DOUBLE);
    /* Only audio/pcm carries a rate, and the service only speaks 24 kHz. */
    if (!is_number || format.encoding != AudioEncoding::kPcm16 ||
        json_node_get_double (rate) != kCanonicalRate) {
      *bad_member = "rate";
      *message = "Invalid audio rate; audio/pcm supports only 24000.";
      return false;
    }
  }
  *out = format;
  return true;
}

JsonNode *
audio_format_to_json (const AudioFormat &format)
{
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "type", format.type_name ());
  if (format.encoding == AudioEncoding::kPcm16)
    json_object_set_int_member (obj, "rate", kCanonicalRate);
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

struct Resampler::Impl {
  GstAudioResampler *resampler = nullptr;
  size_t latency = 0;
};

Resampler::Resampler (int in_rate, int out_rate) : impl_ (new Impl)
{
  GstStructure *options = gst_structure_new_empty ("resampler-options");
  gst_audio_resampler_options_set_quality (GST_AUDIO_RESAMPLER_METHOD_KAISER,
      GST_AUDIO_RESAMPLER_QUALITY_DEFAULT, in_rate, out_rate, options);
  impl_->resampler = gst_audio_resampler_new (GST_AUDIO_RESAMPLER_METHOD_KAISER,
      GST_AUDIO_RESAMPLER_FLAG_NONE, GST_AUDIO_FORMAT_S16, 1, in_rate, out_rate, options);
  gst_structure_free (options);
  impl_->latency = gst_audio_resampler_get_max_latency (impl_->resampler);
}

Resampler::~Resampler ()
{
  gst_audio_resampler_free (impl_->resampler);
}

std::vector<int16_t>
Resampler::process (const int16_t *samples, size_t n_samples)
{
  if (n_samples == 0)
    return {};
  gsize out_frames = gst_audio_resampler_get_out_frames (impl_->resampler, n_samples);
  std::vector<int16_t> out (out_frames);
  gpointer in_planes[1] = { const_cast<int16_t *> (samples) };
  gpointer out_planes[1] = { out.data () };
  gst_audio_resampler_resample (impl_->resampler, in_planes, n_samples, out_planes, out_frames);
  return out;
}

std::vector<int16_t>
Resampler::drain ()
{
  /* A few frames beyond the delay, so rounding never leaves a sample behind. */
  std::vector<int16_t> silence (impl_->latency + 16, 0);
  return process (silence.data (), silence.size ());
}

std::vector<int16_t>
resample_all (const std::vector<int16_t> &samples, int in_rate, int out_rate)
{
  if (in_rate == out_rate)
    return samples;
  Resampler resampler (in_rate, out_rate);
  std::vector<int16_t> out = resampler.process (samples.data (), samples.size ());
  std::vector<int16_t> tail = resampler.drain ();
  out.insert (out.end (), tail.begin (), tail.end ());
  /* Draining pushes a little more than the delay; keep the exact length. */
  size_t expected = static_cast<size_t> (
      static_cast<int64_t> (samples.size ()) * out_rate / in_rate);
  out.resize (expected, 0);
  return out;
}

AudioDecoder::AudioDecoder (AudioFormat format) : format_ (format)
{
  if (format_.encoding != AudioEncoding::kPcm16)
    upsampler_ = std::make_unique<Resampler> (format_.rate (), kCanonicalRate);
}

std::vector<int16_t>
AudioDecoder::decode (const uint8_t *data, size_t len)
{
  if (format_.encoding == AudioEncoding::kPcm16) {
    std::vector<uint8_t> bytes (pending_byte_);
    bytes.insert (bytes.end (), data, data + len);
    pending_byte_.clear ();
    if (bytes.size () % 2) {
      pending_byte_.push_back (bytes.back ());
      bytes.pop_back ();
    }
    std::vector<int16_t> samples (bytes.size () / 2);
    for (size_t i = 0; i < samples.size (); i++)
      samples[i] = static_cast<int16_t> (bytes[2 * i] | (bytes[2 * i + 1] << 8));
    return samples;
  }

  std::vector<int16_t> narrow (len);
  for (size_t i = 0; i < len; i++)
    narrow[i] = format_.encoding == AudioEncoding::kPcmu ? ulaw_to_linear (data[i])
                                                         : alaw_to_linear (data[i]);
  return upsampler_->process (narrow.data (), narrow.size ());
}

AudioEncoder::AudioEncoder (AudioFormat format) : format_ (format)
{
  if (format_.encoding != AudioEncoding::kPcm16)
    downsampler_ = std::make_unique<Resampler> (kCanonicalRate, format_.rate ());
}

std::vector<uint8_t>
AudioEncoder::compand (const std::vector<int16_t> &samples_8k) const
{
  std::vector<uint8_t> out (samples_8k.size ());
  for (size_t i = 0; i < samples_8k.size (); i++)
    out[i] = format_.encoding == AudioEncoding::kPcmu ? linear_to_ulaw (samples_8k[i])
                                                      : linear_to_alaw (samples_8k[i]);
  return out;
}

std::vector<uint8_t>
AudioEncoder::encode (const int16_t *samples, size_t n_samples)
{
  if (format_.encoding == AudioEncoding::kPcm16) {
    std::vector<uint8_t> out (n_samples * 2);
    for (size_t i = 0; i < n_samples; i++) {
      uint16_t v = static_cast<uint16_t> (samples[i]);
      out[2 * i] = static_cast<uint8_t> (v & 0xff);
      out[2 * i + 1] = static_cast<uint8_t> (v >> 8);
    }
    return out;
  }
  return compand (downsampler_->process (samples, n_samples));
}

std::vector<uint8_t>
AudioEncoder::finish ()
{
  if (!downsampler_)
    return {};
  return compand (downsampler_->drain ());
}

std::vector<uint8_t>
encode_all (const std::vector<int16_t> &canonical, AudioFormat format)
{
  AudioEncoder encoder (format);
  std::vector<uint8_t> out = encoder.encode (canonical.data (), canonical.size ());
  std::vector<uint8_t> tail = encoder.finish ();
  out.insert (out.end (), tail.begin (), tail.end ());
  /* Draining pushes a little more than the filter delay; keep the exact length. */
  size_t expected = canonical.size () * static_cast<size_t> (format.rate ()) / kCanonicalRate *
      static_cast<size_t> (format.bytes_per_sample ());
  if (out.size () > expected)
    out.resize (expected);
  return out;
}

}  // namespace voxbridge::sim
