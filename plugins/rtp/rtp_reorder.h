#pragma once
/* The reorder buffer of one received RTP stream (siprtpsrc's stand-in for
 * rtpjitterbuffer, which needs two threads per call). A packet that arrives
 * in sequence is released at once; a packet after a gap waits until the
 * missing ones arrive or until `latency` has passed since the gap was seen,
 * when they are declared lost. Duplicates and packets older than what was
 * released are dropped. A new SSRC, or a jump in sequence numbers confirmed
 * by the packet after it (RFC 3550 A.1), restarts the stream.
 *
 * Pure bookkeeping on the caller's thread and clock: no locking, no timer;
 * the owner asks deadline() and calls expire() when it has come. */

#include <gst/gst.h>

#include <map>
#include <vector>

namespace voxbridge {

class RtpReorderBuffer {
 public:
  /* What comes out, in order. */
  struct Item {
    enum class Kind {
      PACKET,         /* packet (owned by the receiver of the item) */
      LOST,           /* lost packets went missing before the next PACKET */
      RESTART,        /* a new stream starts with the next PACKET */
    };
    Kind kind;
    GstBuffer *packet = nullptr;
    guint64 lost = 0;
  };

  enum class Verdict { ACCEPTED, DUPLICATE, LATE };

  /* Packets held at most: beyond, the oldest gap is given up at once. */
  static constexpr gsize kMaxWaiting = 256;

  RtpReorderBuffer () = default;
  ~RtpReorderBuffer ();
  RtpReorderBuffer (const RtpReorderBuffer &) = delete;
  RtpReorderBuffer & operator= (const RtpReorderBuffer &) = delete;

  void set_latency (GstClockTime latency) { latency_ = latency; }

  /* Takes @packet, which arrived at @arrival; appends what is now released
   * to @out (including what expired by @arrival). A DUPLICATE or LATE
   * packet is unreffed. */
  Verdict push (GstBuffer * packet, guint32 ssrc, guint16 seq,
      GstClockTime arrival, std::vector<Item> & out);
  /* Gives up on the gaps whose time is over at @now. */
  void expire (GstClockTime now, std::vector<Item> & out);
  /* When expire() has something to do; GST_CLOCK_TIME_NONE: nothing waits. */
  GstClockTime deadline () const;
  /* Drops what waits; the next packet starts a new stream. */
  void clear ();

  guint64 lost () const { return lost_; }
  guint64 late () const { return late_; }
  guint64 duplicates () const { return duplicates_; }

 private:
  struct Waiting {
    GstBuffer *packet;
    GstClockTime arrival;
  };

  void start (guint32 ssrc, guint16 seq);
  void release_in_sequence (std::vector<Item> & out);
  void give_up_first_gap (std::vector<Item> & out);
  void drain (std::vector<Item> & out);
  void advance (guint64 count, bool released);

  GstClockTime latency_ = 0;
  bool started_ = false;
  guint32 ssrc_ = 0;
  /* Extended (never wrapping) sequence number of the next packet to
   * release; a 16-bit number is placed nearest to it. */
  guint64 next_ = 0;
  /* Bit i: sequence number next_ - 1 - i was released (not lost), to tell
   * a duplicate from a late packet. */
  guint64 released_bits_ = 0;
  /* The packet after a jump, which confirms it (RFC 3550 bad_seq). */
  gint32 jump_confirm_seq_ = -1;
  std::map<guint64, Waiting> waiting_;

  guint64 lost_ = 0;
  guint64 late_ = 0;
  guint64 duplicates_ = 0;
};

}  // namespace voxbridge
