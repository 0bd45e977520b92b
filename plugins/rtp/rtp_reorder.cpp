/* See rtp_reorder.h. */
#include "rtp_reorder.h"

namespace voxbridge {

namespace {

/* RFC 3550 A.1: a jump further than this is a restarted sender, once the
 * packet after it confirms it. */
constexpr gint kMaxDropout = 3000;
constexpr gint kMaxMisorder = 100;
/* Start extended numbers high, so that late packets before the first one
 * still have a place. */
constexpr guint64 kExtendedBase = G_GUINT64_CONSTANT (1) << 32;

}  // namespace

RtpReorderBuffer::~RtpReorderBuffer ()
{
  clear ();
}

void
RtpReorderBuffer::clear ()
{
  for (auto & entry : waiting_)
    gst_buffer_unref (entry.second.packet);
  waiting_.clear ();
  started_ = false;
  jump_confirm_seq_ = -1;
}

void
RtpReorderBuffer::start (guint32 ssrc, guint16 seq)
{
  started_ = true;
  ssrc_ = ssrc;
  next_ = kExtendedBase + seq;
  released_bits_ = 0;
  jump_confirm_seq_ = -1;
}

void
RtpReorderBuffer::advance (guint64 count, bool released)
{
  if (count == 0)
    return;
  released_bits_ = count >= 64 ? 0 : released_bits_ << count;
  if (released)
    released_bits_ |= 1;
  next_ += count;
}

void
RtpReorderBuffer::release_in_sequence (std::vector<Item> & out)
{
  for (auto it = waiting_.begin (); it != waiting_.end () && it->first == next_;
      it = waiting_.erase (it)) {
    out.push_back ({Item::Kind::PACKET, it->second.packet, 0});
    advance (1, true);
  }
}

void
RtpReorderBuffer::give_up_first_gap (std::vector<Item> & out)
{
  const guint64 missing = waiting_.begin ()->first - next_;
  lost_ += missing;
  out.push_back ({Item::Kind::LOST, nullptr, missing});
  advance (missing, false);
  release_in_sequence (out);
}

void
RtpReorderBuffer::drain (std::vector<Item> & out)
{
  while (!waiting_.empty ())
    give_up_first_gap (out);
}

RtpReorderBuffer::Verdict
RtpReorderBuffer::push (GstBuffer * packet, guint32 ssrc, guint16 seq,
    GstClockTime arrival, std::vector<Item> & out)
{
  if (started_ && ssrc != ssrc_) {
    /* A new stream: what the old one left waiting is all there will be. */
    drain (out);
    out.push_back ({Item::Kind::RESTART, nullptr, 0});
    start (ssrc, seq);
  } else if (!started_) {
    start (ssrc, seq);
  }

  gint delta = static_cast<gint16> (static_cast<guint16> (seq -
          static_cast<guint16> (next_)));
  if (delta > kMaxDropout || delta < -kMaxMisorder) {
    if (jump_confirm_seq_ != static_cast<gint32> (seq)) {
      /* Not (yet) believed: a stray packet from far away. */
      jump_confirm_seq_ = static_cast<guint16> (seq + 1);
      late_++;
      gst_buffer_unref (packet);
      return Verdict::LATE;
    }
    drain (out);
    out.push_back ({Item::Kind::RESTART, nullptr, 0});
    start (ssrc, seq);
    delta = 0;
  } else if (delta < 0) {
    const guint64 age = static_cast<guint64> (-delta) - 1;
    const bool released = age < 64 && (released_bits_ >> age) & 1;
    if (released)
      duplicates_++;
    else
      late_++;
    gst_buffer_unref (packet);
    return released ? Verdict::DUPLICATE : Verdict::LATE;
  }
  jump_confirm_seq_ = -1;

  const guint64 extended = next_ + static_cast<guint64> (delta);
  if (extended == next_) {
    out.push_back ({Item::Kind::PACKET, packet, 0});
    advance (1, true);
    release_in_sequence (out);
  } else {
    if (waiting_.count (extended)) {
      duplicates_++;
      gst_buffer_unref (packet);
      return Verdict::DUPLICATE;
    }
    waiting_.emplace (extended, Waiting {packet, arrival});
    if (waiting_.size () > kMaxWaiting)
      give_up_first_gap (out);
  }
  expire (arrival, out);
  return Verdict::ACCEPTED;
}

GstClockTime
RtpReorderBuffer::deadline () const
{
  /* A gap is known since the earliest arrival of what waits behind it. */
  GstClockTime earliest = GST_CLOCK_TIME_NONE;
  for (const auto & entry : waiting_)
    if (entry.second.arrival < earliest)
      earliest = entry.second.arrival;
  return GST_CLOCK_TIME_IS_VALID (earliest) ? earliest + latency_ :
      GST_CLOCK_TIME_NONE;
}

void
RtpReorderBuffer::expire (GstClockTime now, std::vector<Item> & out)
{
  for (;;) {
    const GstClockTime due = deadline ();
    if (!GST_CLOCK_TIME_IS_VALID (due) || due > now)
      return;
    give_up_first_gap (out);
  }
}

}  // namespace voxbridge
