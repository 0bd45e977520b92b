#pragma once
/* Groups the caller's key presses into one message for the model.
 *
 * A caller typing an account number presses several keys; sending each
 * digit on its own would make the model answer after every key. Digits are
 * collected until '#' or until no key came for the inter-digit time, then
 * handed over at once ("1 2 3 4 #"). Digits arrive from RFC 4733
 * (siprtpsrc's siprtp-dtmf) and from SIP INFO alike.
 *
 * Runs on the daemon's main context. */

#include <glib.h>

#include <functional>
#include <string>

namespace voxbridge::launcher {

class DtmfCollector {
 public:
  /* Gets the collected keys, e.g. "1 2 3 #". */
  using Deliver = std::function<void (const std::string & keys)>;

  DtmfCollector (guint inter_digit_ms, Deliver deliver);
  ~DtmfCollector ();
  DtmfCollector (const DtmfCollector &) = delete;
  DtmfCollector & operator= (const DtmfCollector &) = delete;

  /* One key: 0-9, *, #, A-D. Anything else is ignored (FALSE). */
  bool add (char key);
  /* Hands over what was collected (nothing when empty). */
  void flush ();

  const std::string & pending () const { return keys_; }

 private:
  static gboolean on_timeout (gpointer data);

  const guint inter_digit_ms_;
  Deliver deliver_;
  std::string keys_;
  guint timer_ = 0;
};

/* The user message the model gets for @keys. */
std::string dtmf_message_for_model (const std::string & keys);

}  // namespace voxbridge::launcher
