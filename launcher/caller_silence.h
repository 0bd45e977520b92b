#pragma once
/* Notices a caller who has gone quiet and has the model deal with it.
 *
 * The clock runs only while nobody speaks: it starts when the model's
 * answer has finished playing to the caller (response done plus the audio
 * still queued towards the caller at that moment) and stops when the
 * caller speaks, presses a key or the model answers. When it runs out the
 * first time the model is asked to check on the caller ("are you still
 * there?"); the second time in a row the model says goodbye and, once that
 * has played, the call is hung up. Any sign of the caller starts over.
 *
 * Runs on the daemon's main context. */

#include <glib.h>

#include <functional>
#include <string>

namespace voxbridge::launcher {

class CallerSilence {
 public:
  struct Actions {
    /* Asks the model to say @instruction now (e.g. realtimesink send-text). */
    std::function<void (const std::string & instruction)> ask_model;
    /* Audio of the model not yet heard by the caller (ms). */
    std::function<guint64 ()> queued_ms;
    /* Ends the call; the goodbye has played. */
    std::function<void ()> hang_up;
  };

  /* How long the goodbye may take to start, and to be sent once started,
   * before the call is ended without it (a model that never answers). */
  static constexpr guint kDefaultGoodbyeLimitMs = 20000;

  CallerSilence (guint timeout_ms, Actions actions,
      guint goodbye_limit_ms = kDefaultGoodbyeLimitMs);
  ~CallerSilence ();
  CallerSilence (const CallerSilence &) = delete;
  CallerSilence & operator= (const CallerSilence &) = delete;

  /* The call was answered and nobody has spoken yet. */
  void start ();
  /* The caller spoke (speech started) or pressed a key. */
  void caller_active ();
  /* The model started / finished an answer. */
  void model_started ();
  void model_finished ();

  /* How many times the model was asked to check on the caller. */
  guint prompts () const { return prompts_; }
  bool saying_goodbye () const { return stage_ == Stage::kGoodbye; }

 private:
  enum class Stage { kListening, kPrompted, kGoodbye, kDone };

  static gboolean on_timeout (gpointer data);
  void arm (guint ms);
  void disarm ();

  const guint timeout_ms_;
  const guint goodbye_limit_ms_;
  Actions actions_;
  Stage stage_ = Stage::kListening;
  guint timer_ = 0;
  guint prompts_ = 0;
};

/* What the model is told at the first and the second silence. */
extern const char *const kSilencePromptInstruction;
extern const char *const kSilenceGoodbyeInstruction;

}  // namespace voxbridge::launcher
