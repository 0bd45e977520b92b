/* Groups the caller's key presses into one message for the model. */
#include "dtmf_collector.h"

#include <cstring>

namespace voxbridge::launcher {

DtmfCollector::DtmfCollector (guint inter_digit_ms, Deliver deliver)
    : inter_digit_ms_ (inter_digit_ms), deliver_ (std::move (deliver))
{
}

DtmfCollector::~DtmfCollector ()
{
  if (timer_)
    g_source_remove (timer_);
}

bool
DtmfCollector::add (char key)
{
  if (key == '\0' || !strchr ("0123456789*#ABCD", key))
    return false;
  if (!keys_.empty ())
    keys_ += ' ';
  keys_ += key;
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
  /* '#' conventionally ends an entry: no need to wait. */
  if (key == '#' || inter_digit_ms_ == 0)
    flush ();
  else
    timer_ = g_timeout_add (inter_digit_ms_, on_timeout, this);
  return true;
}

void
DtmfCollector::flush ()
{
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
  if (keys_.empty ())
    return;
  std::string keys;
  keys.swap (keys_);
  deliver_ (keys);
}

gboolean
DtmfCollector::on_timeout (gpointer data)
{
  auto *self = static_cast<DtmfCollector *> (data);
  self->timer_ = 0;
  self->flush ();
  return G_SOURCE_REMOVE;
}

std::string
dtmf_message_for_model (const std::string & keys)
{
  const bool one = keys.size () == 1;
  return std::string ("[The caller pressed ") + (one ? "the key " : "the keys ") + keys
      + " on the phone keypad.]";
}

}  // namespace voxbridge::launcher
