#pragma once

/* Speech synthesis with espeak-ng on one worker thread.
 *
 * espeak-ng keeps global state and is not thread-safe, so every synthesis
 * runs on the single worker, one after another. Results (canonical 24 kHz
 * audio) are handed back to the caller's GMainContext. A small cache keeps
 * recent texts, so 200 sessions saying the same sentence synthesise it once. */

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <glib.h>

namespace voxbridge::sim {

using SharedAudio = std::shared_ptr<const std::vector<int16_t>>;

class SpeechSynthesizer {
 public:
  /* @audio is null when synthesis failed. Runs on the requester's context. */
  using Callback = std::function<void (SharedAudio audio)>;

  explicit SpeechSynthesizer (std::string voice);
  ~SpeechSynthesizer ();  /* drops queued jobs, joins the worker */
  SpeechSynthesizer (const SpeechSynthesizer &) = delete;
  SpeechSynthesizer &operator= (const SpeechSynthesizer &) = delete;

  /* Queues @text; @done is invoked later on @context (never synchronously). */
  void synthesize (const std::string &text, GMainContext *context, Callback done);

 private:
  struct Job {
    std::string text;
    GMainContext *context;
    Callback done;
  };

  void run ();
  SharedAudio synthesize_now (const std::string &text);
  SharedAudio cache_lookup (const std::string &text);
  void cache_store (const std::string &text, SharedAudio audio);
  static void deliver (GMainContext *context, Callback done, SharedAudio audio);

  std::string voice_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread worker_;

  /* Worker-thread state. */
  bool initialized_ = false;
  bool init_failed_ = false;
  int espeak_rate_ = 0;

  /* Cache, guarded by mutex_. */
  static constexpr size_t kCacheEntries = 64;
  std::map<std::string, SharedAudio> cache_;
  std::list<std::string> cache_order_;
};

}  // namespace voxbridge::sim
