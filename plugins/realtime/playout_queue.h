#pragma once
/* The model's audio waiting to leave realtimesrc, with the accounting that
 * barge-in needs: how much of each response item actually left (the
 * truncate's audio_end_ms) and how much was dropped. Audio waits here only
 * while realtimesrc cannot push (not yet PLAYING); otherwise it leaves as it
 * arrives. Thread-safe. */

#include <glib.h>

#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace voxbridge::realtime {

class PlayoutQueue {
 public:
  struct FlushResult {
    bool had_audio = false;     /* something of @item_id was queued or had played */
    std::string item_id;        /* the item that was playing (or about to) */
    guint64 played_bytes = 0;   /* of @item_id, that left the src */
    guint64 received_bytes = 0; /* of @item_id, received from the model */
    guint64 dropped_bytes = 0;  /* everything discarded, all items */
  };

  /* @frame_bytes keeps pulls on sample boundaries (2 for S16LE, 1 for G.711). */
  void reset (guint8 silence_byte, guint frame_bytes);
  void push (const std::string & item_id, const guint8 * data, gsize size);
  /* Fills @out with @size bytes: queued audio first, then silence. Returns the
   * number of bytes of model audio in it. With @item_id, takes audio of one
   * item only (the next one starts in the next pull, so that every frame
   * belongs to one item) and stores which. */
  gsize pull (guint8 * out, gsize size, std::string * item_id = nullptr);
  /* Takes up to @max bytes of queued audio, all of one item (stored in
   * @item_id), into @out, without silence fill. Returns how many. */
  gsize take (guint8 * out, gsize max, std::string * item_id);
  /* Drops everything queued (barge-in). */
  FlushResult flush ();
  gsize queued_bytes () const;
  guint64 total_played_bytes () const;
  guint64 total_dropped_bytes () const;

 private:
  struct Segment {
    std::string item_id;
    std::vector<guint8> data;
    gsize offset = 0;
  };
  struct ItemCount {
    std::string item_id;
    guint64 received = 0;
    guint64 played = 0;
  };
  ItemCount *count_for (const std::string & item_id);
  /* pull() and take() without the lock; @item_id NULL: items may mix. */
  gsize take_locked (guint8 * out, gsize max, std::string * item_id);

  mutable std::mutex lock_;
  std::deque<Segment> segments_;
  gsize queued_ = 0;
  guint8 silence_ = 0;
  guint frame_bytes_ = 1;
  /* The few most recent items; older ones are complete and never truncated. */
  std::deque<ItemCount> items_;
  std::string playing_item_;
  guint64 total_played_ = 0;
  guint64 total_dropped_ = 0;
};

}  // namespace voxbridge::realtime
