#pragma once
/* RFC 4733 telephone-event packets for a string of digits, decided one packet
 * slot at a time by siprtpsink's pacer, so events share the audio's SSRC,
 * sequence numbers and timestamp clock. Each digit lasts a whole number of
 * slots; its packets carry the event's start timestamp and the duration so
 * far, the first one the marker bit, the last one the E bit — sent three
 * times, as the RFC recommends. A gap of audio slots separates digits. Not
 * thread-safe: siprtpsink calls it under its lock. */

#include <glib.h>

#include <deque>
#include <string>
#include <vector>

namespace voxbridge {

class DtmfSender {
 public:
  static constexpr guint kMinDurationMs = 20;
  static constexpr guint kMaxDurationMs = 5000;
  static constexpr guint kEndPackets = 3;
  static constexpr guint kGapMs = 60;
  static constexpr guint8 kVolume = 10;   /* -10 dBm0 */

  struct Packet {
    guint8 payload[4];
    guint32 timestamp = 0;      /* RTP timestamp: the event's first slot */
    bool marker = false;        /* first packet of an event */
  };

  /* "0"-"9", "*", "#", "A"-"D" (either case) to event codes 0-15. FALSE, with
   * @error_char set to the first offending character, on anything else or an
   * empty string. */
  static bool parse_digits (const char *digits, std::vector<guint8> *events,
      char *error_char);

  /* Appends @events, each lasting @duration_ms (rounded up to whole slots). */
  void queue (const std::vector<guint8> & events, guint duration_ms);
  /* Decides the slot starting at RTP time @slot_ts: TRUE and @out filled
   * when it carries an event packet, FALSE when it carries audio. */
  bool next_slot (guint32 slot_ts, guint slot_ms, Packet *out);
  /* Digits queued or being sent (the one in progress included). */
  guint pending_digits () const;
  void clear ();

 private:
  struct Digit {
    guint8 event;
    guint duration_ms;
  };
  std::deque<Digit> queued_;
  bool sending_ = false;
  Digit current_ {0, 0};
  guint32 start_ts_ = 0;
  guint slots_total_ = 0;       /* slots of the tone itself */
  guint slots_done_ = 0;
  guint end_sent_ = 0;
  guint gap_left_ms_ = 0;
};

}  // namespace voxbridge
