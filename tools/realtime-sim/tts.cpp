#include "tts.h"

#include <espeak-ng/speak_lib.h>

#include "audio_format.h"

namespace voxbridge::sim {

SpeechSynthesizer::SpeechSynthesizer (std::string voice)
    : voice_ (std::move (voice)), worker_ (&SpeechSynthesizer::run, this)
{
}

SpeechSynthesizer::~SpeechSynthesizer ()
{
  {
    std::lock_guard<std::mutex> lock (mutex_);
    stopping_ = true;
    jobs_.clear ();
  }
  wake_.notify_all ();
  worker_.join ();
}

void
SpeechSynthesizer::synthesize (const std::string &text, GMainContext *context, Callback done)
{
  SharedAudio cached = cache_lookup (text);
  if (cached) {
    deliver (context, std::move (done), cached);
    return;
  }
  {
    std::lock_guard<std::mutex> lock (mutex_);
    jobs_.push_back ({text, context, std::move (done)});
  }
  wake_.notify_one ();
}

namespace {
struct Delivery {
  SpeechSynthesizer::Callback done;
  SharedAudio audio;
};
}  // namespace

void
SpeechSynthesizer::deliver (GMainContext *context, Callback done, SharedAudio audio)
{
  auto *delivery = new Delivery {std::move (done), std::move (audio)};
  /* An idle source rather than g_main_context_invoke: the callback must never
   * run synchronously inside synthesize(), even when called on @context. */
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source,
      [] (gpointer data) -> gboolean {
        auto *d = static_cast<Delivery *> (data);
        d->done (d->audio);
        return G_SOURCE_REMOVE;
      },
      delivery, [] (gpointer data) { delete static_cast<Delivery *> (data); });
  g_source_attach (source, context);
  g_source_unref (source);
}

SharedAudio
SpeechSynthesizer::cache_lookup (const std::string &text)
{
  std::lock_guard<std::mutex> lock (mutex_);
  auto it = cache_.find (text);
  return it == cache_.end () ? nullptr : it->second;
}

void
SpeechSynthesizer::cache_store (const std::string &text, SharedAudio audio)
{
  std::lock_guard<std::mutex> lock (mutex_);
  if (cache_.count (text))
    return;
  if (cache_.size () >= kCacheEntries) {
    cache_.erase (cache_order_.front ());
    cache_order_.pop_front ();
  }
  cache_[text] = audio;
  cache_order_.push_back (text);
}

static int
collect_samples (short *wav, int numsamples, espeak_EVENT *events)
{
  auto *out = static_cast<std::vector<int16_t> *> (events->user_data);
  if (wav && numsamples > 0)
    out->insert (out->end (), wav, wav + numsamples);
  return 0;  /* continue */
}

SharedAudio
SpeechSynthesizer::synthesize_now (const std::string &text)
{
  if (!initialized_ && !init_failed_) {
    espeak_rate_ = espeak_Initialize (AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
    if (espeak_rate_ <= 0) {
      g_printerr ("voxbridge-realtime-sim: espeak-ng initialisation failed\n");
      init_failed_ = true;
    } else {
      espeak_SetSynthCallback (collect_samples);
      if (espeak_SetVoiceByName (voice_.c_str ()) != EE_OK)
        g_printerr ("voxbridge-realtime-sim: espeak-ng voice '%s' not found, using default\n",
            voice_.c_str ());
      initialized_ = true;
    }
  }
  if (init_failed_)
    return nullptr;

  std::vector<int16_t> samples;
  espeak_ERROR result = espeak_Synth (text.c_str (), text.size () + 1, 0, POS_CHARACTER, 0,
      espeakCHARS_UTF8, nullptr, &samples);
  if (result != EE_OK || samples.empty ()) {
    g_printerr ("voxbridge-realtime-sim: espeak-ng could not synthesise \"%s\"\n", text.c_str ());
    return nullptr;
  }
  return std::make_shared<const std::vector<int16_t>> (
      resample_all (samples, espeak_rate_, kCanonicalRate));
}

void
SpeechSynthesizer::run ()
{
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock (mutex_);
      wake_.wait (lock, [this] { return stopping_ || !jobs_.empty (); });
      if (stopping_)
        break;
      job = std::move (jobs_.front ());
      jobs_.pop_front ();
    }
    /* Another job may have synthesised the same text meanwhile. */
    SharedAudio audio = cache_lookup (job.text);
    if (!audio) {
      audio = synthesize_now (job.text);
      if (audio)
        cache_store (job.text, audio);
    }
    deliver (job.context, std::move (job.done), audio);
  }
  if (initialized_)
    espeak_Terminate ();
}

}  // namespace voxbridge::sim
