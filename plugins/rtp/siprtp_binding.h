#pragma once
/* How siprtpsrc and siprtpsink get hold of an RtpCall: by the call id sipd
 * registered, or — for gst-launch use without sipd — by explicit port /
 * remote / payload settings, in which case the elements sharing one local
 * port share one synthetic call "port:<n>" (and so one socket: symmetric
 * RTP). Also keeps the latest media parameters as delivered by the call's
 * listener, for the streaming threads to pick up without locking the call. */

#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rtp_call.h"

namespace voxbridge {

/* Settings of an element used without sipd. Unset optionals leave whatever
 * the other element on the same port already configured. */
struct ExplicitRtpSettings {
  std::string address = "0.0.0.0";
  guint port = 0;                     /* 0: any free port */
  std::string remote;                 /* "host:port", empty: unknown */
  std::optional<guint> payload_type;
  std::string encoding;               /* empty: derived from payload */
  std::optional<gint> dtmf_payload_type;
  std::optional<guint> ptime_ms;
};

/* The G.711 codec a parameter set describes. */
enum class G711 { PCMU, PCMA };

/* Fails when the encoding is not G.711 or contradicts a static payload type. */
bool g711_from_params (const RtpMediaParams & params, G711 * codec,
    GError ** error);
const char *g711_caps_name (G711 codec);       /* audio/x-mulaw, audio/x-alaw */
guint8 g711_silence_byte (G711 codec);

/* Splits "host:port" (IPv6 as "[addr]:port"). */
bool parse_host_port (const std::string & text, std::string * host,
    guint16 * port);

/* "host:port" of an inet socket address, "" for anything else. */
std::string socket_address_to_string (GSocketAddress * address);

/* Answers a CAPS query with @caps (taken) narrowed by the query's filter. */
void answer_caps_query (GstQuery * query, GstCaps * caps);

class CallBinding {
 public:
  /* Binds to the call sipd registered under @call_id. */
  static std::unique_ptr<CallBinding> bind_call (const std::string & call_id,
      GError ** error);
  /* Binds to (or creates, opening its socket) the call of a local port. */
  static std::unique_ptr<CallBinding> bind_explicit (
      const ExplicitRtpSettings & settings, GError ** error);

  ~CallBinding ();
  CallBinding (const CallBinding &) = delete;
  CallBinding & operator= (const CallBinding &) = delete;

  RtpCall & call () const { return *call_; }
  const std::string & call_id () const { return call_->id (); }

  /* The latest parameters and a counter that changes with every update. */
  RtpMediaParams params () const;
  guint64 generation () const { return mailbox_->generation.load (); }

 private:
  struct Mailbox {
    std::mutex lock;
    RtpMediaParams params;
    std::atomic<guint64> generation { 0 };
  };

  CallBinding (std::shared_ptr<RtpCall> call, bool explicit_port);

  std::shared_ptr<RtpCall> call_;
  /* Shared with the listener, which RtpCall may still run once after
   * remove_listener(): it must not point into this object. */
  std::shared_ptr<Mailbox> mailbox_;
  guint listener_id_ = 0;
  bool explicit_port_;
};

}  // namespace voxbridge
