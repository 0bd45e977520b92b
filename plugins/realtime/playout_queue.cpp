/* Model audio queue of realtimesrc with per-item accounting for barge-in. */
#include "playout_queue.h"

#include <cstring>

namespace voxbridge::realtime {

namespace {
constexpr size_t kRememberedItems = 8;
}

void
PlayoutQueue::reset (guint8 silence_byte, guint frame_bytes)
{
  std::lock_guard<std::mutex> guard (lock_);
  segments_.clear ();
  items_.clear ();
  playing_item_.clear ();
  queued_ = 0;
  silence_ = silence_byte;
  frame_bytes_ = frame_bytes ? frame_bytes : 1;
}

PlayoutQueue::ItemCount *
PlayoutQueue::count_for (const std::string & item_id)
{
  for (auto & c : items_)
    if (c.item_id == item_id)
      return &c;
  items_.push_back ({item_id, 0, 0});
  if (items_.size () > kRememberedItems)
    items_.pop_front ();
  return &items_.back ();
}

void
PlayoutQueue::push (const std::string & item_id, const guint8 * data, gsize size)
{
  std::lock_guard<std::mutex> guard (lock_);
  /* A delta ending mid-sample would shift every later sample; drop the tail. */
  size -= size % frame_bytes_;
  if (size == 0)
    return;
  count_for (item_id)->received += size;
  if (!segments_.empty () && segments_.back ().item_id == item_id
      && segments_.back ().offset == 0 && segments_.back ().data.size () < 65536) {
    auto & d = segments_.back ().data;
    d.insert (d.end (), data, data + size);
  } else {
    segments_.push_back ({item_id, std::vector<guint8> (data, data + size), 0});
  }
  queued_ += size;
}

gsize
PlayoutQueue::pull (guint8 * out, gsize size, std::string * item_id)
{
  std::lock_guard<std::mutex> guard (lock_);
  gsize filled = take_locked (out, size, item_id);
  /* Keep the frame boundary: a half sample would click and shift the stream. */
  if (size > filled)
    memset (out + filled, silence_, size - filled);
  return filled;
}

gsize
PlayoutQueue::take (guint8 * out, gsize max, std::string * item_id)
{
  std::lock_guard<std::mutex> guard (lock_);
  return take_locked (out, max, item_id);
}

gsize
PlayoutQueue::take_locked (guint8 * out, gsize max, std::string * item_id)
{
  gsize filled = 0;
  if (item_id)
    item_id->clear ();
  while (filled < max && !segments_.empty ()) {
    Segment & seg = segments_.front ();
    if (item_id && filled > 0 && seg.item_id != *item_id)
      break;
    if (item_id)
      *item_id = seg.item_id;
    gsize n = MIN (max - filled, seg.data.size () - seg.offset);
    memcpy (out + filled, seg.data.data () + seg.offset, n);
    seg.offset += n;
    filled += n;
    queued_ -= n;
    playing_item_ = seg.item_id;
    count_for (seg.item_id)->played += n;
    if (seg.offset == seg.data.size ())
      segments_.pop_front ();
  }
  total_played_ += filled;
  return filled;
}

PlayoutQueue::FlushResult
PlayoutQueue::flush ()
{
  std::lock_guard<std::mutex> guard (lock_);
  FlushResult r;
  std::string item = !segments_.empty () ? segments_.front ().item_id : playing_item_;
  if (!item.empty ()) {
    for (const auto & c : items_) {
      if (c.item_id == item) {
        r.had_audio = true;
        r.item_id = item;
        r.played_bytes = c.played;
        r.received_bytes = c.received;
      }
    }
  }
  r.dropped_bytes = queued_;
  total_dropped_ += queued_;
  segments_.clear ();
  queued_ = 0;
  return r;
}

gsize
PlayoutQueue::queued_bytes () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return queued_;
}

guint64
PlayoutQueue::total_played_bytes () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return total_played_;
}

guint64
PlayoutQueue::total_dropped_bytes () const
{
  std::lock_guard<std::mutex> guard (lock_);
  return total_dropped_;
}

}  // namespace voxbridge::realtime
