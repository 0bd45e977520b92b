#pragma once
/* The voxbridge daemon: owns the deployment config, sipd, the HTTP API, the
 * call event log and metrics, and one CallSession per call. Implements the
 * CallControl the HTTP API calls. Everything runs on the default main
 * context. */

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "call_event_log.h"
#include "call_session.h"
#include "event_hub.h"
#include "http_api.h"
#include "launcher_metrics.h"
#include "metrics_registry.h"
#include "sipd.h"

namespace voxbridge::launcher {

class Daemon : public CallControl, public CallSessionHost {
 public:
  explicit Daemon (DeploymentConfig config);
  ~Daemon () override;
  Daemon (const Daemon &) = delete;
  Daemon & operator= (const Daemon &) = delete;

  /* Opens the event log, starts sipd and the HTTP API. FALSE with @error. */
  bool start (std::string & error);
  /* Ends every call (BYE), stops every graph, then runs @done. */
  void shutdown (std::function<void ()> done);

  /* For the exit report. */
  size_t rtp_ports_in_use () const;
  size_t session_count () const { return sessions_.size (); }

  /* CallControl */
  std::vector<CallInfo> list_calls () const override;
  std::optional<CallInfo> find_call (const std::string & id) const override;
  bool hang_up (const std::string & id) override;
  DialResult dial (const DialRequest & request) override;

  /* CallSessionHost */
  const DeploymentConfig & config () const override { return config_; }
  LauncherMetrics & metrics () override { return metrics_; }
  void publish (CallEvent event) override;
  sipd::CallPtr dial_leg (const sipd::DialRequest & request, std::string * error) override;

 private:
  sipd::Callbacks sip_callbacks ();
  std::shared_ptr<CallSession> session_of (const sipd::CallPtr & call) const;
  void on_incoming_call (const sipd::CallPtr & call);
  void on_ended (const sipd::CallPtr & call, const sipd::CallEnd & end);
  void update_gauges ();

  const DeploymentConfig config_;
  MetricsRegistry registry_;
  LauncherMetrics metrics_;
  Gauge & rtp_ports_gauge_;
  Gauge & sip_calls_gauge_;
  EventHub events_;
  std::unique_ptr<CallEventLog> event_log_;
  std::unique_ptr<sipd::Sipd> sipd_;
  std::unique_ptr<HttpApi> http_;
  std::map<std::string, std::shared_ptr<CallSession>> sessions_;
  bool shutting_down_ = false;
};

}  // namespace voxbridge::launcher
