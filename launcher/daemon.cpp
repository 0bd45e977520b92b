/* The daemon: config -> sipd + HTTP API; one CallSession per call. */

#include "daemon.h"

#include "route_selector.h"
#include "sip_call_facts.h"

namespace voxbridge::launcher {

namespace {

bool
is_wildcard (const std::string & host)
{
  return host.empty () || host == "0.0.0.0" || host == "::";
}

sipd::Config
make_sipd_config (const DeploymentConfig & config)
{
  sipd::Config sip;
  sip.listen_uris.clear ();
  for (const auto & address : config.sip.listen)
    sip.listen_uris.push_back (address.sofia_url ());
  sip.media_address = config.sip.media_address;
  /* RTP on the SIP address when that is a specific one, else everywhere. */
  sip.rtp_bind_address = "0.0.0.0";
  if (!config.sip.listen.empty () && !is_wildcard (config.sip.listen.front ().host))
    sip.rtp_bind_address = config.sip.listen.front ().host;
  sip.rtp_port_min = config.sip.rtp_port_min;
  sip.rtp_port_max = config.sip.rtp_port_max;
  sip.max_calls = config.sip.max_calls;
  sip.user_agent = "voxbridge/" VOXBRIDGE_VERSION;
  /* sipd's own limit for unanswered calls stays behind the AI wait. */
  sip.answer_timeout_s = config.ai.connect_timeout_s + 10;
  return sip;
}

bool
starts_with (const std::string & s, const char *prefix)
{
  return s.rfind (prefix, 0) == 0;
}

}  // namespace

Daemon::Daemon (DeploymentConfig config)
  : config_ (std::move (config)),
    metrics_ (registry_),
    rtp_ports_gauge_ (registry_.add_gauge ("voxbridge_sip_rtp_ports_in_use",
          "RTP ports leased to calls by the SIP side.")),
    sip_calls_gauge_ (registry_.add_gauge ("voxbridge_sip_calls",
          "Calls the SIP side holds (ringing, answered or ending)."))
{
}

Daemon::~Daemon ()
{
  /* Graphs first: their elements are bound to sipd's calls. */
  sessions_.clear ();
  http_.reset ();
  sipd_.reset ();
}

bool
Daemon::start (std::string & error)
{
  GError *err = nullptr;
  event_log_ = CallEventLog::open (config_.log, &err);
  if (!event_log_) {
    error = std::string ("event log: ") + err->message;
    g_clear_error (&err);
    return false;
  }

  std::string why;
  sipd_ = sipd::Sipd::create (nullptr, make_sipd_config (config_), sip_callbacks (), &why);
  if (!sipd_) {
    error = "SIP: " + why;
    return false;
  }

  HttpApiOptions options;
  options.bearer_token = config_.http.token;
  if (!config_.http.token_env.empty ()) {
    const char *token = g_getenv (config_.http.token_env.c_str ());
    if (!token || !*token) {
      error = "HTTP: environment variable " + config_.http.token_env +
          " ([http] token-env) is not set";
      return false;
    }
    options.bearer_token = token;
  }
  http_ = std::make_unique<HttpApi> (*this, events_, registry_, options);
  if (!http_->listen (config_.http.host, config_.http.port, &err)) {
    error = "HTTP: " + std::string (err->message);
    g_clear_error (&err);
    return false;
  }
  update_gauges ();
  g_message ("listening: SIP port %u, HTTP http://%s:%u, %zu route(s), AI %s",
      sipd_->sip_port (), config_.http.host.c_str (), http_->port (),
      config_.routes.size (), config_.ai.effective_url ().c_str ());
  return true;
}

void
Daemon::shutdown (std::function<void ()> done)
{
  shutting_down_ = true;
  g_message ("shutting down: %zu call(s)", sessions_.size ());
  /* sipd sends BYE (or 503 to unanswered calls); each call's ended stops
   * its graph. */
  sipd_->shutdown ([this, done] () {
    auto left = std::move (sessions_);
    sessions_.clear ();
    for (auto & [id, session] : left)
      session->hang_up ("shutdown");
    left.clear ();
    update_gauges ();
    /* Recordings drain and summaries come in (each with a time limit). */
    CallRecording::when_all_finished (done);
  });
}

size_t
Daemon::rtp_ports_in_use () const
{
  return sipd_ ? sipd_->rtp_ports_in_use () : 0;
}

sipd::Callbacks
Daemon::sip_callbacks ()
{
  sipd::Callbacks callbacks;
  callbacks.incoming_call = [this] (const sipd::CallPtr & call) {
    on_incoming_call (call);
  };
  callbacks.state_changed = [this] (const sipd::CallPtr & call, sipd::CallState state) {
    if (auto session = session_of (call))
      session->on_state_changed (state);
  };
  callbacks.hold_changed = [this] (const sipd::CallPtr & call, bool held) {
    if (auto session = session_of (call))
      session->on_hold_changed (held);
  };
  callbacks.dtmf = [this] (const sipd::CallPtr & call, char digit, guint duration_ms) {
    if (auto session = session_of (call))
      session->on_sip_dtmf (digit, duration_ms);
  };
  callbacks.ended = [this] (const sipd::CallPtr & call, const sipd::CallEnd & end) {
    on_ended (call, end);
  };
  return callbacks;
}

std::shared_ptr<CallSession>
Daemon::session_of (const sipd::CallPtr & call) const
{
  auto it = sessions_.find (call->id ());
  return it != sessions_.end () ? it->second : nullptr;
}

void
Daemon::on_incoming_call (const sipd::CallPtr & call)
{
  if (shutting_down_) {
    call->reject_unavailable ();
    return;
  }
  auto session = std::make_shared<CallSession> (*this, call, call_facts_from_sip (*call));
  sessions_[call->id ()] = session;
  update_gauges ();
  session->start_inbound ();
}

void
Daemon::on_ended (const sipd::CallPtr & call, const sipd::CallEnd & end)
{
  auto it = sessions_.find (call->id ());
  if (it != sessions_.end ()) {
    auto session = it->second;   /* alive until its on_ended returns */
    sessions_.erase (it);
    session->on_ended (end);
  }
  update_gauges ();
}

void
Daemon::update_gauges ()
{
  metrics_.calls_active.set (static_cast<double> (sessions_.size ()));
  if (sipd_) {
    rtp_ports_gauge_.set (static_cast<double> (sipd_->rtp_ports_in_use ()));
    sip_calls_gauge_.set (static_cast<double> (sipd_->calls ().size ()));
  }
}

void
Daemon::publish (CallEvent event)
{
  if (event_log_)
    event_log_->write (event);
  events_.publish (std::move (event));
}

sipd::CallPtr
Daemon::dial_leg (const sipd::DialRequest & request, std::string * error)
{
  if (shutting_down_) {
    if (error)
      *error = "shutting down";
    return nullptr;
  }
  sipd::CallPtr call = sipd_->dial (request, error);
  update_gauges ();
  return call;
}

std::vector<CallInfo>
Daemon::list_calls () const
{
  std::vector<CallInfo> calls;
  for (const auto & [id, session] : sessions_)
    calls.push_back (session->info (false));
  return calls;
}

std::optional<CallInfo>
Daemon::find_call (const std::string & id) const
{
  auto it = sessions_.find (id);
  if (it == sessions_.end ())
    return CallRecording::recent_call (id);   /* ended: its files */
  return it->second->info (true);
}

bool
Daemon::hang_up (const std::string & id)
{
  auto it = sessions_.find (id);
  if (it == sessions_.end ())
    return false;
  auto session = it->second;
  session->hang_up ("hung up over HTTP");
  return true;
}

DialResult
Daemon::dial (const DialRequest & request)
{
  DialResult result;
  if (shutting_down_) {
    result.http_status = 503;
    result.error = "shutting down";
    return result;
  }
  if (!starts_with (request.to, "sip:") && !starts_with (request.to, "sips:")) {
    result.http_status = 400;
    result.error = "'to' must be a SIP URI, e.g. sip:+15550100@trunk.example.com";
    return result;
  }

  const Route *route = nullptr;
  if (!request.route.empty ()) {
    for (const auto & candidate : config_.routes)
      if (candidate.name == request.route)
        route = &candidate;
    if (!route) {
      result.http_status = 404;
      result.error = "no route named '" + request.route + "'";
      return result;
    }
  } else {
    CallFacts facts;
    facts.direction = "outbound";
    facts.request_user = sip_uri_user (request.to);
    facts.to_uri = request.to;
    facts.to_user = facts.request_user;
    route = select_route (config_.routes, facts);
    if (!route) {
      result.http_status = 404;
      result.error = "no route for '" + request.to + "'";
      return result;
    }
  }

  sipd::DialRequest sip_request;
  sip_request.to = request.to;
  if (request.from.empty ())
    sip_request.from = "<sip:voxbridge@" + config_.sip.media_address + ">";
  else if (starts_with (request.from, "sip:") || starts_with (request.from, "sips:"))
    sip_request.from = "<" + request.from + ">";
  else
    sip_request.from = "<sip:" + request.from + "@" + config_.sip.media_address + ">";
  if (sip_request.from.find_first_of ("\r\n") != std::string::npos) {
    result.http_status = 400;
    result.error = "bad 'from'";
    return result;
  }

  std::string error;
  sipd::CallPtr call = sipd_->dial (sip_request, &error);
  if (!call) {
    result.http_status = 503;
    result.error = "could not dial: " + error;
    return result;
  }
  auto session = std::make_shared<CallSession> (*this, call, call_facts_from_sip (*call));
  sessions_[call->id ()] = session;
  update_gauges ();
  session->start_outbound (*route, request.variables);
  result.call_id = call->id ();
  return result;
}

}  // namespace voxbridge::launcher
