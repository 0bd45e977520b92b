/* Notices a caller who has gone quiet and has the model deal with it. */
#include "caller_silence.h"

namespace voxbridge::launcher {

const char *const kSilencePromptInstruction =
    "[The caller has not said anything for a while. Briefly ask whether they are "
    "still there and whether you can help with anything else.]";
const char *const kSilenceGoodbyeInstruction =
    "[The caller is still silent. Say a short, polite goodbye now; the call will "
    "then be ended.]";

/* After the goodbye response is done, how long past its queued audio the
 * hang-up waits (the last packets still travel through the graph). */
static constexpr guint kGoodbyeTailMs = 300;


CallerSilence::CallerSilence (guint timeout_ms, Actions actions, guint goodbye_limit_ms)
    : timeout_ms_ (timeout_ms), goodbye_limit_ms_ (goodbye_limit_ms),
      actions_ (std::move (actions))
{
}

CallerSilence::~CallerSilence ()
{
  disarm ();
}

void
CallerSilence::start ()
{
  if (timeout_ms_ == 0 || stage_ == Stage::kDone)
    return;
  arm (timeout_ms_);
}

void
CallerSilence::caller_active ()
{
  if (stage_ == Stage::kGoodbye || stage_ == Stage::kDone)
    return;
  stage_ = Stage::kListening;
  disarm ();
}

void
CallerSilence::model_started ()
{
  if (stage_ == Stage::kGoodbye)
    arm (goodbye_limit_ms_);
  else if (stage_ != Stage::kDone)
    disarm ();
}

void
CallerSilence::model_finished ()
{
  if (timeout_ms_ == 0 || stage_ == Stage::kDone)
    return;
  /* response.done comes when the model has sent its audio, which is
   * faster than real time: the caller is still listening to the rest. */
  const guint64 queued = actions_.queued_ms ? actions_.queued_ms () : 0;
  if (stage_ == Stage::kGoodbye) {
    arm ((guint) MIN (queued, (guint64) G_MAXUINT / 2) + kGoodbyeTailMs);
    return;
  }
  arm ((guint) MIN (queued, (guint64) G_MAXUINT / 2) + timeout_ms_);
}

void
CallerSilence::arm (guint ms)
{
  disarm ();
  timer_ = g_timeout_add (ms, on_timeout, this);
}

void
CallerSilence::disarm ()
{
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
}

gboolean
CallerSilence::on_timeout (gpointer data)
{
  auto *self = static_cast<CallerSilence *> (data);
  self->timer_ = 0;
  switch (self->stage_) {
    case Stage::kListening:
      self->stage_ = Stage::kPrompted;
      self->prompts_++;
      self->actions_.ask_model (kSilencePromptInstruction);
      /* Re-armed when the answer is done; this covers a model that stays mute. */
      self->arm (self->timeout_ms_);
      break;
    case Stage::kPrompted:
      self->stage_ = Stage::kGoodbye;
      self->actions_.ask_model (kSilenceGoodbyeInstruction);
      /* A model that never answers must not keep the call open. */
      self->arm (self->goodbye_limit_ms_);
      break;
    case Stage::kGoodbye:
      self->stage_ = Stage::kDone;
      self->actions_.hang_up ();   /* may destroy this object: last step */
      break;
    case Stage::kDone:
      break;
  }
  return G_SOURCE_REMOVE;
}

}  // namespace voxbridge::launcher
