#pragma once
/* sipd: the SIP side of voxbridge. A Sofia-SIP user agent (nua) on a GLib
 * main context that answers and places G.711 calls, negotiates SDP, hands
 * out RTP ports and registers each call's media in voxbridge::RtpCallRegistry
 * (keyed by call id) for siprtpsrc/siprtpsink.
 *
 * Threading: everything here (constructor, methods, callbacks) runs on the
 * GMainContext given to Sipd::create(); call it from that context only.
 *
 * Lifecycle of an inbound call:
 *   INVITE -> 100 Trying -> offer checked (400/488/503 without bothering the
 *   application) -> RTP port leased, registry entry created (send=false) ->
 *   Callbacks::incoming_call -> the application calls Call::answer() (200 OK,
 *   send=true) or Call::reject() whenever it is ready -> ACK -> kConfirmed ->
 *   BYE from either side / CANCEL -> Callbacks::ended; port and registry
 *   entry released on every way out. */

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace voxbridge {
class RtpCall;
}

namespace voxbridge::sipd {

class SipdCore;

using Variables = std::map<std::string, std::string>;

struct Config {
  /* Where to listen: "sip:HOST:PORT;transport=udp" / "...;transport=tcp".
   * Sofia's nua binds one sip: address (any set of transports on it) and,
   * later, one sips: address for TLS. */
  std::vector<std::string> listen_uris = {
      "sip:0.0.0.0:5060;transport=udp", "sip:0.0.0.0:5060;transport=tcp"};
  /* The address written into SDP (c=/o=); must be reachable by the peer.
   * Empty = the listen host, unless that is a wildcard (then required). */
  std::string media_address;
  /* The address RTP sockets are bound to. */
  std::string rtp_bind_address = "0.0.0.0";
  guint16 rtp_port_min = 20000;
  guint16 rtp_port_max = 29999;
  /* Concurrent calls (inbound + outbound); more get 503 + Retry-After. */
  guint max_calls = 100;
  guint retry_after_s = 5;
  std::string user_agent = "voxbridge-sipd";
  /* RFC 4028 session timer offered/accepted, 0 = none. Refreshes use UPDATE
   * so no SDP is involved. */
  guint session_expires_s = 0;
  guint min_se_s = 90;
  /* Codecs we carry, by encoding name. The answer takes the caller's first
   * one that is in this list; our own offers list them in this order. */
  std::vector<std::string> codecs = {"PCMU", "PCMA"};
  guint ptime_ms = 20;
  /* telephone-event payload type in our offers. */
  gint dtmf_payload_type = 101;
  /* An inbound call the application neither answers nor rejects within this
   * time is rejected with 480; 0 = wait forever. */
  guint answer_timeout_s = 30;
};

enum class CallDirection { kInbound, kOutbound };

enum class CallState {
  kOffered,     /* inbound INVITE waiting for answer()/reject() */
  kDialing,     /* outbound INVITE sent */
  kRinging,     /* outbound: 18x received */
  kAnswered,    /* 200 OK sent (inbound) / received (outbound) */
  kConfirmed,   /* ACK exchanged: media flows */
  kEnded,
};

const char *call_state_to_string (CallState state);

enum class EndedBy { kLocal, kRemote, kError };

struct CallEnd {
  EndedBy by = EndedBy::kLocal;
  int status = 0;           /* SIP status that ended it (487, 200 for BYE, ...) */
  std::string reason;       /* human readable */
};

/* Transfer by REFER (RFC 3515): how it goes, as the peer reports it. */
enum class ReferStage {
  kAccepted,    /* 2xx to the REFER: the peer tries the target; NOTIFYs follow */
  kTrying,      /* NOTIFY sipfrag 1xx */
  kSucceeded,   /* final: NOTIFY sipfrag 2xx, the peer reached the target */
  kRefused,     /* final: non-2xx to the REFER (408 when unanswered) */
  kFailed,      /* final: NOTIFY sipfrag >= 300, the subscription ended
                 * without a final status, no final NOTIFY in time, or the
                 * call ended first */
};

const char *refer_stage_to_string (ReferStage stage);
inline bool
refer_stage_is_final (ReferStage stage)
{
  return stage == ReferStage::kSucceeded || stage == ReferStage::kRefused ||
      stage == ReferStage::kFailed;
}

struct ReferProgress {
  ReferStage stage = ReferStage::kFailed;
  int status = 0;          /* REFER response or sipfrag status; 0 = none */
  std::string phrase;
};

using ReferCallback = std::function<void (const ReferProgress &progress)>;

class Call;

/* Per-call observers, called after the matching Callbacks (e.g. for a leg
 * the application dials for itself). */
struct CallListener {
  std::function<void (const std::shared_ptr<Call> &call, CallState state)>
      state_changed;
  std::function<void (const std::shared_ptr<Call> &call, const CallEnd &end)>
      ended;
};

class Call : public std::enable_shared_from_this<Call> {
 public:
  ~Call ();
  Call (const Call &) = delete;
  Call & operator= (const Call &) = delete;

  /* Our short unique id (variable call.id); the key in RtpCallRegistry. */
  const std::string &id () const { return id_; }
  CallDirection direction () const { return direction_; }
  CallState state () const { return state_; }
  /* True while the remote has put us on hold (we must not send). */
  bool held () const { return held_; }
  /* from.user, to.user, uui, header.X-*, rtp.port, rtp.codec, ... */
  const Variables &variables () const { return variables_; }
  std::string variable (const std::string &name) const;
  /* The registry entry; nullptr once the call has ended. */
  std::shared_ptr<voxbridge::RtpCall> rtp () const;

  /* Inbound, kOffered: send 200 OK with our SDP. */
  bool answer ();
  /* Inbound, kOffered: final error response, e.g. 486, 603. A 503 carries
   * Retry-After (@retry_after_s, or the configured one when 0). */
  bool reject (int status, const std::string &reason = {},
      guint retry_after_s = 0);
  /* 503 + Retry-After: for when the AI side cannot be reached. */
  bool reject_unavailable () { return reject (503); }
  /* Ends the call whatever its state: BYE, CANCEL or 480. */
  bool hangup (const std::string &reason = {});

  /* Answered/confirmed call: asks the peer to call @refer_to (a sip:/sips:
   * URI) instead of us. @progress runs for every stage and exactly once
   * with a final one; @timeout_s bounds the wait for the final stage
   * (kFailed, status 408, when it passes). FALSE (and no callback) when
   * the call is not established, a REFER is already under way or the URI
   * is not a SIP URI. The call goes on either way: hanging up after
   * kSucceeded is the application's job. */
  bool refer (const std::string &refer_to, ReferCallback progress,
      guint timeout_s = 30);
  /* Observers for this call only; replaces any earlier ones. */
  void set_listener (CallListener listener);

 private:
  friend class SipdCore;
  Call (SipdCore *core, std::string id, CallDirection direction);

  SipdCore *core_;
  const std::string id_;
  const CallDirection direction_;
  CallState state_;
  bool held_ = false;
  Variables variables_;
  struct Media;
  std::unique_ptr<Media> media_;   /* SIP handle, SDP state, port lease */
};

using CallPtr = std::shared_ptr<Call>;

struct Callbacks {
  /* A new inbound call; answer() or reject() it now or later. */
  std::function<void (const CallPtr &call)> incoming_call;
  std::function<void (const CallPtr &call, CallState state)> state_changed;
  /* The remote put us on hold (true) or resumed (false). */
  std::function<void (const CallPtr &call, bool held)> hold_changed;
  /* SIP INFO application/dtmf-relay or application/dtmf. */
  std::function<void (const CallPtr &call, char digit, guint duration_ms)> dtmf;
  /* After this the call holds no port, registry entry or SIP handle. */
  std::function<void (const CallPtr &call, const CallEnd &end)> ended;
};

struct DialRequest {
  /* The callee, e.g. "sip:+15550100@trunk.example.com". Also the
   * Request-URI unless request_uri is set. */
  std::string to;
  std::string request_uri;
  /* From, e.g. "\"Voxbridge\" <sip:+15550199@voxbridge.example.com>". */
  std::string from;
  /* Send via this trunk/proxy (becomes a loose Route), e.g.
   * "sip:trunk.example.com;transport=tcp". */
  std::string outbound_proxy;
  /* Extra headers, e.g. {"X-Contact-Id", "..."}, {"User-to-User", "...;encoding=hex"}. */
  std::vector<std::pair<std::string, std::string>> headers;
  /* Codecs to offer, in this order, from Config::codecs (others are left
   * out); empty = Config::codecs. E.g. a bridge offers the codec of the
   * call it bridges to first so that nothing is transcoded. */
  std::vector<std::string> codecs;
};

class Sipd {
 public:
  /* Binds the listen addresses. nullptr and @error on failure. */
  static std::unique_ptr<Sipd> create (GMainContext *context, Config config,
      Callbacks callbacks, std::string *error);
  /* Prefer shutdown() first; destroying a running Sipd ends calls abruptly
   * (still releasing ports and registry entries). */
  ~Sipd ();
  Sipd (const Sipd &) = delete;
  Sipd & operator= (const Sipd &) = delete;

  const Config &config () const;
  CallPtr find_call (const std::string &call_id) const;
  std::vector<CallPtr> calls () const;
  bool hangup (const std::string &call_id, const std::string &reason = {});
  /* Places an outbound call; its events arrive through the same callbacks.
   * nullptr (and @error) when the request is invalid or at the call limit. */
  CallPtr dial (const DialRequest &request, std::string *error = nullptr);

  /* Ends every call (BYE/CANCEL/503), refuses new ones, then shuts the SIP
   * stack down; @done runs on the context once everything is released. */
  void shutdown (std::function<void ()> done);

  /* For monitoring and tests. */
  size_t rtp_ports_in_use () const;
  guint16 sip_port () const;

 private:
  Sipd () = default;
  std::unique_ptr<SipdCore> core_;
};

}  // namespace voxbridge::sipd
