#pragma once
/* transfer_call: hands the caller over to the route's transfer-target.
 *
 *   REFER (Refer-To: target), the caller stays with the AI meanwhile
 *     2xx + NOTIFY sipfrag 2xx      -> transferred: BYE to the caller
 *     2xx + NOTIFY sipfrag >= 300   -> failed: error output to the model
 *     3xx-6xx, or no answer in time -> INVITE to the target ourselves
 *       answered                    -> AI graph stopped, bridge graph
 *                                      (bridge_graph.h) caller <-> target;
 *                                      when either leaves the other is hung up
 *       refused / not answered      -> failed: error output to the model
 *
 * The AI graph runs until the target has answered, so a failed transfer
 * leaves the caller talking to the model, which learns why from the
 * function output. Events: transfer.started, transfer.progress,
 * transfer.accepted / transfer.failed (with the SIP status),
 * transfer.bridged, transfer.ended.
 *
 * Runs on the daemon's main context; owned by the caller's CallSession. */

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "call_event.h"
#include "sipd.h"

namespace voxbridge::launcher {

/* The "reason" of the model's transfer_call arguments ({"reason": "..."});
 * "" when there is none or the arguments are not a JSON object. */
std::string transfer_reason (const std::string & arguments_json);

struct TransferSettings {
  std::string target;             /* sip: URI (the route's transfer-target) */
  std::string reason;             /* the model's reason, for the log and the target */
  std::string from;               /* From of our INVITE to the target */
  guint refer_timeout_s = 20;     /* REFER answer + final NOTIFY */
  guint answer_timeout_s = 30;    /* our INVITE to the target */
};

class CallTransfer : public std::enable_shared_from_this<CallTransfer> {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  /* What the transfer needs from the caller's call session. */
  struct Hooks {
    /* An event of the caller's call. */
    std::function<void (CallEventType type, Fields fields)> publish;
    /* The transfer failed and the caller is still with the AI: @output is
     * the function output (JSON) for the model. */
    std::function<void (const std::string & output)> failed;
    /* The caller was handed over (REFER succeeded or the bridge is up):
     * @output is the function output, {"status":"transferred",...}; no
     * model is left to read it, but the event stream shows it. */
    std::function<void (const std::string & output)> transferred;
    /* The target answered: stop the caller's AI graph now (the bridge takes
     * over the caller's media). */
    std::function<void ()> stop_ai;
    /* The caller's call is over (REFER succeeded, the bridge ended): send
     * BYE with @reason; the outcome is "transferred". */
    std::function<void (const std::string & reason)> end_call;
    /* Places the INVITE to the target (sipd::Sipd::dial). */
    std::function<sipd::CallPtr (const sipd::DialRequest & request, std::string * error)> dial;
  };

  CallTransfer (sipd::CallPtr caller, TransferSettings settings, Hooks hooks);
  ~CallTransfer ();
  CallTransfer (const CallTransfer &) = delete;
  CallTransfer & operator= (const CallTransfer &) = delete;

  /* Sends the REFER (or, when the call cannot take one, the INVITE). */
  void start ();
  /* The caller's call is ending or has ended: hangs up the target leg and
   * stops the bridge. */
  void caller_ended ();

  /* Still working on it (REFER or INVITE under way) or bridged. */
  bool active () const { return state_ != State::kDone; }
  bool bridged () const { return state_ == State::kBridged; }
  const std::string & target_call_id () const { return target_call_id_; }

  /* The function output for a failed transfer: {"status":"failed","error":...}. */
  static std::string failure_output (const std::string & why);
  /* {"status":"transferred","method":@method}. */
  static std::string success_output (const char *method);

 private:
  enum class State { kIdle, kReferring, kDialing, kBridged, kDone };

  void on_refer (const sipd::ReferProgress & progress);
  void dial_target (const std::string & why);
  void on_target_state (sipd::CallState state);
  void on_target_ended (const sipd::CallEnd & end);
  void bridge ();
  void fail (const char *method, int sip_status, const std::string & reason);
  /* Stops the bridge graph; the packets its sinks sent to each leg. */
  std::pair<guint64, guint64> stop_bridge ();
  void clear_answer_timer ();
  void publish (CallEventType type, Fields fields);
  static gboolean on_answer_timeout (gpointer data);
  static gboolean on_bridge_bus (GstBus * bus, GstMessage * message, gpointer data);

  sipd::CallPtr caller_;
  sipd::CallPtr target_;
  std::string target_call_id_;
  const TransferSettings settings_;
  Hooks hooks_;
  State state_ = State::kIdle;
  bool refer_accepted_ = false;

  GstElement *bridge_ = nullptr;
  guint bridge_watch_ = 0;
  guint answer_timer_ = 0;
  gint64 bridged_at_us_ = 0;
};

}  // namespace voxbridge::launcher
