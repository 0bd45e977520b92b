/* RFC 4733 telephone-event packet slots for siprtpsink. */
#include "dtmf_sender.h"

namespace voxbridge {

bool
DtmfSender::parse_digits (const char *digits, std::vector<guint8> *events,
    char *error_char)
{
  events->clear ();
  *error_char = '\0';
  if (digits == nullptr || *digits == '\0')
    return false;
  for (const char *p = digits; *p; p++) {
    char c = g_ascii_toupper (*p);
    gint event;
    if (c >= '0' && c <= '9')
      event = c - '0';
    else if (c == '*')
      event = 10;
    else if (c == '#')
      event = 11;
    else if (c >= 'A' && c <= 'D')
      event = 12 + (c - 'A');
    else {
      *error_char = *p;
      events->clear ();
      return false;
    }
    events->push_back (static_cast<guint8> (event));
  }
  return true;
}

void
DtmfSender::queue (const std::vector<guint8> & events, guint duration_ms)
{
  duration_ms = CLAMP (duration_ms, kMinDurationMs, kMaxDurationMs);
  for (guint8 e : events)
    queued_.push_back ({e, duration_ms});
}

bool
DtmfSender::next_slot (guint32 slot_ts, guint slot_ms, Packet *out)
{
  if (!sending_) {
    if (gap_left_ms_ > 0) {
      /* Audio between two digits, so the receiver sees two key presses. */
      gap_left_ms_ = gap_left_ms_ > slot_ms ? gap_left_ms_ - slot_ms : 0;
      return false;
    }
    if (queued_.empty ())
      return false;
    current_ = queued_.front ();
    queued_.pop_front ();
    sending_ = true;
    start_ts_ = slot_ts;
    slots_total_ = MAX (1u, (current_.duration_ms + slot_ms - 1) / slot_ms);
    slots_done_ = 0;
    end_sent_ = 0;
  }

  const guint samples_per_slot = slot_ms * 8;   /* telephone-event at 8 kHz */
  bool end;
  guint duration;
  if (slots_done_ < slots_total_) {
    slots_done_++;
    end = slots_done_ == slots_total_;
    duration = slots_done_ * samples_per_slot;
  } else {
    end = true;                 /* a retransmission of the end packet */
    duration = slots_total_ * samples_per_slot;
  }
  duration = MIN (duration, 0xffffu);
  out->timestamp = start_ts_;
  out->marker = slots_done_ == 1 && end_sent_ == 0;
  out->payload[0] = current_.event;
  out->payload[1] = (end ? 0x80 : 0x00) | (kVolume & 0x3f);
  out->payload[2] = static_cast<guint8> (duration >> 8);
  out->payload[3] = static_cast<guint8> (duration & 0xff);
  if (end && ++end_sent_ == kEndPackets) {
    sending_ = false;
    gap_left_ms_ = kGapMs;
  }
  return true;
}

guint
DtmfSender::pending_digits () const
{
  return static_cast<guint> (queued_.size ()) + (sending_ ? 1 : 0);
}

void
DtmfSender::clear ()
{
  queued_.clear ();
  sending_ = false;
  gap_left_ms_ = 0;
}

}  // namespace voxbridge
