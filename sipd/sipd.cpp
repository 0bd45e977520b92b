/* sipd: Sofia-SIP nua on a GLib main context. See sipd.h for the model.
 *
 * The nua stack does the SIP protocol work: 100 Trying, 200 OK
 * retransmission until ACK (and BYE when none comes), 487 after CANCEL,
 * OPTIONS with Allow, 400 for unparsable requests, session timers. Media
 * handling in nua (soa) is disabled; SDP is ours (sdp_negotiation.h) so the
 * "first codec of the caller's list" rule and 488 are under our control. */

#include "sipd.h"

#include "call_variables.h"
#include "dtmf_info.h"
#include "rtp_port_pool.h"
#include "sdp_negotiation.h"
#include "sipfrag.h"

#include "rtp_call.h"

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/url.h>

#include <algorithm>
#include <optional>

namespace voxbridge::sipd {

namespace {

constexpr guint kShutdownGraceS = 5;

std::string
random_call_id ()
{
  gchar *id = g_strdup_printf ("%08x%04x", g_random_int (),
      g_random_int () & 0xffff);
  std::string result (id);
  g_free (id);
  return result;
}

std::string
payload_text (const sip_t *sip)
{
  if (sip == nullptr || sip->sip_payload == nullptr ||
      sip->sip_payload->pl_data == nullptr)
    return {};
  return std::string (sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

/* An INVITE/ACK body we treat as SDP: application/sdp, or no Content-Type
 * at all with a body (some trunks omit it). */
bool
has_sdp (const sip_t *sip)
{
  if (payload_text (sip).empty ())
    return false;
  return sip->sip_content_type == nullptr ||
      sip->sip_content_type->c_type == nullptr ||
      g_ascii_strcasecmp (sip->sip_content_type->c_type, "application/sdp") == 0;
}

std::string
warning_value (const std::string &text)
{
  std::string quoted;
  for (char c : text)
    if (c != '"' && c != '\\' && c != '\r' && c != '\n')
      quoted += c;
  return "399 voxbridge \"" + quoted + "\"";
}

/* The first listen URI's host and port, for the SDP address default and for
 * tests. */
std::pair<std::string, guint16>
uri_host_port (const std::string &uri)
{
  su_home_t *home = static_cast<su_home_t *> (su_home_new (sizeof (su_home_t)));
  url_t *url = url_make (home, uri.c_str ());
  std::pair<std::string, guint16> result {"", 5060};
  if (url != nullptr) {
    if (url->url_host != nullptr)
      result.first = url->url_host;
    if (url->url_port != nullptr)
      result.second = static_cast<guint16> (g_ascii_strtoull (url->url_port,
              nullptr, 10));
    else if (url->url_type == url_sips)
      result.second = 5061;
  }
  su_home_unref (home);
  return result;
}

bool
is_wildcard_host (const std::string &host)
{
  return host.empty () || host == "0.0.0.0" || host == "*" || host == "::" ||
      host == "[::]";
}

}  // namespace

/* ------------------------------------------------------------------------ */

struct Call::Media {
  nua_handle_t *nh = nullptr;
  /* The INVITE we answer later (nua_save_event / NUTAG_WITH_SAVED). */
  nua_saved_event_t saved_invite[1] = {};
  bool have_saved_invite = false;

  RtpPortLease lease;
  std::shared_ptr<voxbridge::RtpCall> rtp;

  std::optional<SdpDescription> remote_offer;  /* inbound offer to answer */
  Negotiation negotiation;                     /* what is in force */
  bool negotiated = false;
  bool awaiting_answer_in_ack = false;         /* we offered in our 200 */

  uint64_t sdp_session_id = 0;
  uint64_t sdp_version = 0;
  std::string last_sdp_without_origin;

  std::optional<CallEnd> end;                  /* the first known cause */
  guint answer_timeout_id = 0;

  /* Outbound: the codecs our offers list, in order (empty = config). */
  std::vector<std::string> offer_codecs;
  CallListener listener;

  /* The REFER under way, if any (one at a time). */
  bool refer_pending = false;
  bool refer_accepted = false;
  ReferCallback refer_callback;
  guint refer_timeout_id = 0;
};

Call::Call (SipdCore *core, std::string id, CallDirection direction)
    : core_ (core), id_ (std::move (id)), direction_ (direction),
      state_ (direction == CallDirection::kInbound ? CallState::kOffered :
          CallState::kDialing),
      media_ (std::make_unique<Media> ())
{
  variables_["call.id"] = id_;
  variables_["call.direction"] =
      direction == CallDirection::kInbound ? "inbound" : "outbound";
  media_->sdp_session_id = (static_cast<uint64_t> (g_random_int ()) << 16) |
      (g_random_int () & 0xffff);
}

Call::~Call () = default;

std::string
Call::variable (const std::string &name) const
{
  auto it = variables_.find (name);
  return it != variables_.end () ? it->second : std::string ();
}

std::shared_ptr<voxbridge::RtpCall>
Call::rtp () const
{
  return media_->rtp;
}

const char *
call_state_to_string (CallState state)
{
  switch (state) {
    case CallState::kOffered: return "offered";
    case CallState::kDialing: return "dialing";
    case CallState::kRinging: return "ringing";
    case CallState::kAnswered: return "answered";
    case CallState::kConfirmed: return "confirmed";
    case CallState::kEnded: return "ended";
  }
  return "unknown";
}

/* ------------------------------------------------------------------------ */

class SipdCore {
 public:
  SipdCore (GMainContext *context, Config config, Callbacks callbacks);
  ~SipdCore ();

  bool start (std::string *error);

  bool answer (Call &call);
  bool reject (Call &call, int status, const std::string &reason,
      guint retry_after_s);
  bool hangup (Call &call, const std::string &reason);
  bool refer (Call &call, const std::string &refer_to, ReferCallback progress,
      guint timeout_s);
  CallPtr dial (const DialRequest &request, std::string *error);
  void shutdown (std::function<void ()> done);

  CallPtr find_call (const std::string &id) const;
  std::vector<CallPtr> calls () const;

  const Config config_;
  RtpPortPool pool_;
  guint16 sip_port_ = 0;

 private:
  static void nua_callback (nua_event_t event, int status, char const *phrase,
      nua_t *nua, nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic,
      sip_t const *sip, tagi_t tags[]);
  void dispatch (nua_event_t event, int status, const char *phrase,
      nua_handle_t *nh, Call *call, const sip_t *sip, tagi_t tags[]);

  void on_i_invite (int status, nua_handle_t *nh, const sip_t *sip);
  void on_i_reinvite (Call &call, const sip_t *sip);
  void on_i_ack (Call &call, const sip_t *sip);
  void on_i_bye (Call &call);
  void on_i_cancel (Call &call);
  void on_i_info (Call &call, const sip_t *sip);
  void on_i_state (Call &call, int status, const char *phrase, tagi_t tags[]);
  void on_r_invite (Call &call, int status, const char *phrase,
      const sip_t *sip);
  void on_r_shutdown (int status, const char *phrase);
  void on_r_refer (Call &call, int status, const char *phrase);
  void on_i_notify (Call &call, const sip_t *sip, tagi_t tags[]);
  void report_refer (Call &call, ReferStage stage, int status,
      const std::string &phrase);

  void respond_error (nua_handle_t *nh, int status, const char *phrase,
      const std::string &warning, guint retry_after_s);
  std::string local_sdp (Call &call, std::vector<LocalMediaLine> lines);
  std::string local_offer (Call &call);
  void apply_negotiation (Call &call, const Negotiation &negotiation);
  void set_state (Call &call, CallState state);
  void note_end (Call &call, EndedBy by, int status, const std::string &reason);
  void finish_call (Call &call, EndedBy by, int status,
      const std::string &reason);
  void stop_stack ();
  void destroy_stack ();
  void emit_state (Call &call);
  NegotiationPolicy policy (const Call *call) const;

  GMainContext *context_;
  Callbacks callbacks_;
  std::string media_address_;
  su_root_t *root_ = nullptr;
  nua_t *nua_ = nullptr;
  std::map<std::string, CallPtr> calls_;
  bool shutting_down_ = false;
  bool stack_stopping_ = false;
  std::function<void ()> shutdown_done_;
  guint shutdown_timeout_id_ = 0;
};

SipdCore::SipdCore (GMainContext *context, Config config, Callbacks callbacks)
    : config_ (std::move (config)),
      pool_ (config_.rtp_bind_address, config_.rtp_port_min,
          config_.rtp_port_max),
      context_ (g_main_context_ref (context)),
      callbacks_ (std::move (callbacks))
{
}

SipdCore::~SipdCore ()
{
  if (nua_ != nullptr) {
    /* Not shut down by the owner: do it now, running the context until the
     * stack has said goodbye (bounded). */
    bool done = false;
    shutdown ([&done] () { done = true; });
    gint64 deadline = g_get_monotonic_time () +
        (kShutdownGraceS + 5) * G_USEC_PER_SEC;
    while (!done && g_get_monotonic_time () < deadline)
      g_main_context_iteration (context_, TRUE);
  }
  if (shutdown_timeout_id_ != 0)
    g_source_remove (shutdown_timeout_id_);
  /* Whatever is left (stack did not answer): release the resources. */
  std::vector<CallPtr> left = calls ();
  for (const CallPtr &call : left)
    finish_call (*call, EndedBy::kLocal, 503, "sipd destroyed");
  if (nua_ != nullptr) {
    nua_destroy (nua_);
    nua_ = nullptr;
  }
  if (root_ != nullptr) {
    g_source_destroy (su_glib_root_gsource (root_));
    su_root_destroy (root_);
  }
  g_main_context_unref (context_);
}

bool
SipdCore::start (std::string *error)
{
  auto fail = [error] (const std::string &why) {
    if (error != nullptr)
      *error = why;
    return false;
  };

  /* nua binds one sip: URL (any set of transports on one host:port) and one
   * sips: URL. Fold the configured list into those two. */
  std::string sip_host_port, sips_uri;
  std::vector<std::string> transports;
  for (const std::string &uri : config_.listen_uris) {
    if (g_str_has_prefix (uri.c_str (), "sips:")) {
      if (!sips_uri.empty ())
        return fail ("only one sips: listen URI is supported");
      sips_uri = uri;
      continue;
    }
    su_home_t *home = static_cast<su_home_t *> (su_home_new (sizeof (su_home_t)));
    url_t *url = url_make (home, uri.c_str ());
    if (url == nullptr || url->url_type != url_sip || url->url_host == nullptr) {
      su_home_unref (home);
      return fail ("bad listen URI '" + uri + "'");
    }
    std::string host_port = std::string (url->url_host) + ":" +
        (url->url_port != nullptr ? url->url_port : "5060");
    char transport[16] = "";
    if (url->url_params != nullptr)
      url_param (url->url_params, "transport", transport, sizeof transport);
    su_home_unref (home);
    if (!sip_host_port.empty () && sip_host_port != host_port)
      return fail ("all sip: listen URIs must share one host:port (" +
          sip_host_port + " vs " + host_port + ")");
    sip_host_port = host_port;
    transports.push_back (transport[0] != '\0' ? transport : "udp");
  }
  if (sip_host_port.empty ())
    return fail ("no sip: listen URI");

  std::string joined;
  for (const std::string &t : transports)
    if (joined.find (t) == std::string::npos)
      joined += (joined.empty () ? "" : ",") + t;
  /* A transport list ("udp,tcp") makes Debian's Sofia-SIP 1.12.11 read an
   * uninitialised value in nta_agent_add_tport (valgrind) and crash in
   * tport_tbind now and then; with no transport parameter it binds UDP and
   * TCP, its default for sip:. */
  const bool default_transports = joined == "udp,tcp" || joined == "tcp,udp";
  const std::string listen_url = "sip:" + sip_host_port +
      (default_transports ? std::string () : ";transport=" + joined);

  auto [host, port] = uri_host_port ("sip:" + sip_host_port);
  sip_port_ = port;
  media_address_ = config_.media_address;
  if (media_address_.empty ()) {
    if (is_wildcard_host (host))
      return fail ("media_address is required when listening on a wildcard "
          "address");
    media_address_ = host;
  }
  if (pool_.capacity () == 0)
    return fail ("empty RTP port range");

  static gsize su_initialised = 0;
  if (g_once_init_enter (&su_initialised)) {
    su_init ();
    g_once_init_leave (&su_initialised, 1);
  }

  root_ = su_glib_root_create (nullptr);
  if (root_ == nullptr)
    return fail ("cannot create the Sofia root");
  su_root_threading (root_, 0);
  g_source_attach (su_glib_root_gsource (root_), context_);

  /* NOTIFY: the progress reports of our REFERs (nua answers those outside
   * a refer subscription with 481). */
  const std::string allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY";
  nua_ = nua_create (root_, &SipdCore::nua_callback,
      reinterpret_cast<nua_magic_t *> (this),
      NUTAG_URL (listen_url.c_str ()),
      TAG_IF (!sips_uri.empty (), NUTAG_SIPS_URL (sips_uri.c_str ())),
      SIPTAG_USER_AGENT_STR (config_.user_agent.c_str ()),
      SIPTAG_ALLOW_STR (allow.c_str ()),
      NUTAG_MEDIA_ENABLE (0),
      NUTAG_AUTOANSWER (0),
      NUTAG_AUTOALERT (0),
      NUTAG_AUTOACK (1),
      NUTAG_ENABLEINVITE (1),
      NUTAG_SESSION_TIMER (config_.session_expires_s),
      NUTAG_MIN_SE (config_.min_se_s),
      NUTAG_SESSION_REFRESHER (nua_any_refresher),
      NUTAG_UPDATE_REFRESH (1),
      TAG_END ());
  if (nua_ == nullptr)
    return fail ("cannot listen on " + listen_url +
        (sips_uri.empty () ? "" : " / " + sips_uri));

  g_message ("sipd: listening on %s, RTP %s:%u-%u, SDP address %s",
      listen_url.c_str (), config_.rtp_bind_address.c_str (),
      config_.rtp_port_min, config_.rtp_port_max, media_address_.c_str ());
  return true;
}

NegotiationPolicy
SipdCore::policy (const Call *call) const
{
  NegotiationPolicy p;
  p.codecs = config_.codecs;
  p.default_ptime_ms = config_.ptime_ms;
  if (call != nullptr && !call->media_->offer_codecs.empty ())
    p.codecs = call->media_->offer_codecs;
  if (call != nullptr && call->media_->negotiated)
    p.keep_codec = call->media_->negotiation.codec.name;
  return p;
}

/* ------------------------------------------------------------------------ */
/* The one nua callback: a switch dispatching to small handlers. */

void
SipdCore::nua_callback (nua_event_t event, int status, char const *phrase,
    nua_t *nua, nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic,
    sip_t const *sip, tagi_t tags[])
{
  auto *self = reinterpret_cast<SipdCore *> (magic);
  self->dispatch (event, status, phrase, nh,
      reinterpret_cast<Call *> (hmagic), sip, tags);
}

void
SipdCore::dispatch (nua_event_t event, int status, const char *phrase,
    nua_handle_t *nh, Call *call, const sip_t *sip, tagi_t tags[])
{
  g_debug ("sipd: %s %03d %s call=%s", nua_event_name (event), status,
      phrase != nullptr ? phrase : "", call != nullptr ? call->id ().c_str () : "-");

  /* Keep the call alive through handlers that may end it. */
  CallPtr keep = call != nullptr ? call->shared_from_this () : nullptr;

  switch (event) {
    case nua_i_invite:
      if (call != nullptr)
        on_i_reinvite (*call, sip);
      else
        on_i_invite (status, nh, sip);
      break;
    case nua_i_ack:
      if (call != nullptr)
        on_i_ack (*call, sip);
      break;
    case nua_i_bye:
      if (call != nullptr)
        on_i_bye (*call);
      break;
    case nua_i_cancel:
      if (call != nullptr)
        on_i_cancel (*call);
      break;
    case nua_i_info:
      if (call != nullptr)
        on_i_info (*call, sip);
      break;
    case nua_i_state:
      if (call != nullptr)
        on_i_state (*call, status, phrase, tags);
      break;
    case nua_r_invite:
      if (call != nullptr)
        on_r_invite (*call, status, phrase, sip);
      break;
    case nua_r_shutdown:
      on_r_shutdown (status, phrase);
      break;
    case nua_r_refer:
      if (call != nullptr)
        on_r_refer (*call, status, phrase);
      break;
    case nua_r_bye:
    case nua_r_cancel:
    case nua_i_terminated:
    case nua_i_update:
    case nua_i_prack:
    case nua_r_set_params:
    case nua_i_active:
    case nua_i_media_error:
      break;
    case nua_i_error:
      g_warning ("sipd: stack error %d %s", status, phrase ? phrase : "");
      break;
    case nua_i_options:
    case nua_i_message:
    case nua_i_subscribe:
    case nua_i_notify:
      if (call != nullptr) {
        on_i_notify (*call, sip, tags);
        break;
      }
      if (nh != nullptr)
        nua_handle_destroy (nh);
      break;
    case nua_i_refer:
    case nua_i_publish:
    case nua_i_register:
      /* Out-of-dialog requests nua has answered itself (OPTIONS: 200 with
       * Allow) arrive on a fresh handle nobody owns. */
      if (call == nullptr && nh != nullptr)
        nua_handle_destroy (nh);
      break;
    default:
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Inbound calls */

void
SipdCore::respond_error (nua_handle_t *nh, int status, const char *phrase,
    const std::string &warning, guint retry_after_s)
{
  std::string retry = std::to_string (retry_after_s);
  std::string warn = warning_value (warning);
  nua_respond (nh, status, phrase,
      NUTAG_WITH_THIS (nua_),
      TAG_IF (!warning.empty (), SIPTAG_WARNING_STR (warn.c_str ())),
      TAG_IF (retry_after_s > 0, SIPTAG_RETRY_AFTER_STR (retry.c_str ())),
      TAG_END ());
}

void
SipdCore::on_i_invite (int status, nua_handle_t *nh, const sip_t *sip)
{
  const std::string sip_call_id = sip && sip->sip_call_id ?
      sip->sip_call_id->i_id : "?";

  /* Refusals that never reach the application: no Call object. */
  auto refuse = [&] (int code, const char *phrase, const std::string &why,
      guint retry_after_s) {
    g_message ("sipd: INVITE %s refused: %d %s (%s)", sip_call_id.c_str (),
        code, phrase, why.c_str ());
    respond_error (nh, code, phrase, why, retry_after_s);
    nua_handle_destroy (nh);
  };

  if (shutting_down_)
    return refuse (SIP_503_SERVICE_UNAVAILABLE, "shutting down",
        config_.retry_after_s);
  if (calls_.size () >= config_.max_calls)
    return refuse (SIP_503_SERVICE_UNAVAILABLE, "call limit reached",
        config_.retry_after_s);

  std::optional<SdpDescription> offer;
  Negotiation negotiation;
  if (has_sdp (sip)) {
    std::string why;
    offer = parse_sdp (payload_text (sip), &why);
    if (!offer)
      return refuse (SIP_400_BAD_REQUEST, "malformed SDP: " + why, 0);
    negotiation = negotiate_answer (*offer, policy (nullptr));
    if (negotiation.status != NegotiationStatus::kOk)
      return refuse (SIP_488_NOT_ACCEPTABLE, negotiation.error, 0);
  } else if (!payload_text (sip).empty ()) {
    return refuse (415, "Unsupported Media Type",
        "only application/sdp bodies", 0);
  }

  std::string why;
  std::optional<RtpPortLease> lease = pool_.acquire (&why);
  if (!lease)
    return refuse (SIP_503_SERVICE_UNAVAILABLE, why, config_.retry_after_s);

  std::string id;
  do
    id = random_call_id ();
  while (calls_.count (id) != 0 ||
      voxbridge::RtpCallRegistry::instance ().find (id) != nullptr);

  CallPtr call (new Call (this, id, CallDirection::kInbound));
  Call::Media &media = *call->media_;
  media.nh = nh;
  media.lease = std::move (*lease);
  nua_handle_bind (nh, reinterpret_cast<nua_hmagic_t *> (call.get ()));
  nua_save_event (nua_, media.saved_invite);
  media.have_saved_invite = true;
  calls_[id] = call;

  Variables from_request = variables_from_request (sip);
  call->variables_.insert (from_request.begin (), from_request.end ());
  call->variables_["rtp.port"] = std::to_string (media.lease.port ());
  call->variables_["rtp.local_address"] = media_address_;

  /* The registry entry exists from now on so the launcher can build the
   * graph (siprtpsrc/sink bind by call id) before it answers; it stays
   * send=false until the 200 OK (apply_negotiation knows the state). */
  voxbridge::RtpMediaParams initial;
  initial.send = false;
  media.rtp = voxbridge::RtpCallRegistry::instance ().add (id,
      media.lease.socket (), initial);
  if (!media.rtp) {
    g_warning ("sipd: call %s: registry refused the RTP entry", id.c_str ());
    reject (*call, SIP_500_INTERNAL_SERVER_ERROR, 0);
    finish_call (*call, EndedBy::kError, 500, "media registry refused");
    return;
  }
  if (offer) {
    media.remote_offer = offer;
    apply_negotiation (*call, negotiation);
  }

  g_message ("sipd: call %s: INVITE %s from %s to %s (%s), RTP port %u",
      id.c_str (), sip_call_id.c_str (), call->variable ("from.uri").c_str (),
      call->variable ("request.uri").c_str (),
      offer ? call->variable ("rtp.codec").c_str () : "offer in our 200",
      media.lease.port ());

  if (config_.answer_timeout_s > 0) {
    std::weak_ptr<Call> weak = call;
    GSource *timeout = g_timeout_source_new_seconds (config_.answer_timeout_s);
    auto *data = new std::weak_ptr<Call> (weak);
    g_source_set_callback (timeout, [] (gpointer user_data) -> gboolean {
          auto *w = static_cast<std::weak_ptr<Call> *> (user_data);
          if (CallPtr c = w->lock ()) {
            c->media_->answer_timeout_id = 0;
            if (c->state () == CallState::kOffered) {
              g_message ("sipd: call %s: not answered in time", c->id ().c_str ());
              c->reject (480, "Answer timeout");
            }
          }
          return G_SOURCE_REMOVE;
        }, data, [] (gpointer user_data) {
          delete static_cast<std::weak_ptr<Call> *> (user_data);
        });
    media.answer_timeout_id = g_source_attach (timeout, context_);
    g_source_unref (timeout);
  }

  if (callbacks_.incoming_call)
    callbacks_.incoming_call (call);
  else
    reject (*call, 480, "no application", 0);
}

void
SipdCore::apply_negotiation (Call &call, const Negotiation &negotiation)
{
  Call::Media &media = *call.media_;
  media.negotiation = negotiation;
  media.negotiated = true;

  Variables &v = call.variables_;
  v["rtp.remote_address"] = negotiation.remote_address;
  v["rtp.remote_port"] = std::to_string (negotiation.remote_port);
  v["rtp.codec"] = negotiation.codec.name;
  v["rtp.payload_type"] = std::to_string (negotiation.codec.payload_type);
  v["rtp.clock_rate"] = std::to_string (negotiation.codec.clock_rate);
  v["rtp.dtmf_payload_type"] = std::to_string (negotiation.dtmf.payload_type);
  v["rtp.ptime"] = std::to_string (negotiation.ptime_ms);

  if (!media.rtp)
    return;
  voxbridge::RtpMediaParams params;
  params.remote_address = negotiation.remote_address;
  params.remote_port = static_cast<guint16> (negotiation.remote_port);
  params.payload_type = static_cast<guint8> (negotiation.codec.payload_type);
  params.encoding_name = negotiation.codec.name;
  params.clock_rate = negotiation.codec.clock_rate;
  params.dtmf_payload_type = negotiation.dtmf.payload_type;
  params.ptime_ms = negotiation.ptime_ms;
  /* No RTP towards the caller before our 200 OK. */
  params.send = negotiation.send && call.state_ != CallState::kOffered &&
      call.state_ != CallState::kDialing && call.state_ != CallState::kRinging;
  params.receive = negotiation.receive;
  media.rtp->update (params);

  if (call.state_ == CallState::kAnswered ||
      call.state_ == CallState::kConfirmed) {
    bool held = !negotiation.send;
    if (held != call.held_) {
      call.held_ = held;
      g_message ("sipd: call %s: %s", call.id ().c_str (),
          held ? "held by remote" : "resumed");
      if (callbacks_.hold_changed)
        callbacks_.hold_changed (call.shared_from_this (), held);
    }
  }
}

std::string
SipdCore::local_sdp (Call &call, std::vector<LocalMediaLine> lines)
{
  Call::Media &media = *call.media_;
  LocalDescription description;
  description.session_id = media.sdp_session_id;
  description.address = media_address_;
  description.media = std::move (lines);

  /* RFC 3264 8: the o= version goes up exactly when the description
   * changes. */
  auto without_origin = [] (const std::string &sdp) {
    size_t o = sdp.find ("o=");
    size_t eol = o == std::string::npos ? o : sdp.find ('\n', o);
    return o == std::string::npos ? sdp : sdp.substr (0, o) + sdp.substr (eol);
  };
  description.session_version = media.sdp_version;
  std::string sdp = print_sdp (description);
  std::string key = without_origin (sdp);
  if (!media.last_sdp_without_origin.empty () &&
      key != media.last_sdp_without_origin) {
    description.session_version = ++media.sdp_version;
    sdp = print_sdp (description);
  }
  media.last_sdp_without_origin = key;
  return sdp;
}

std::string
SipdCore::local_offer (Call &call)
{
  NegotiationPolicy p = policy (&call);
  /* Offer the codec in use first so a re-offer does not switch it. */
  if (!p.keep_codec.empty ()) {
    auto it = std::find (p.codecs.begin (), p.codecs.end (), p.keep_codec);
    if (it != p.codecs.end ())
      std::rotate (p.codecs.begin (), it, it + 1);
  }
  return local_sdp (call, {offer_media_line (p, call.media_->lease.port (),
          config_.dtmf_payload_type, MediaDirection::kSendRecv)});
}

bool
SipdCore::answer (Call &call)
{
  Call::Media &media = *call.media_;
  if (call.state_ != CallState::kOffered || !media.have_saved_invite)
    return false;

  std::string sdp;
  if (media.remote_offer) {
    sdp = local_sdp (call, answer_media_lines (*media.remote_offer,
            media.negotiation, media.lease.port ()));
  } else {
    sdp = local_offer (call);
    media.awaiting_answer_in_ack = true;
  }
  if (media.answer_timeout_id != 0) {
    g_source_remove (media.answer_timeout_id);
    media.answer_timeout_id = 0;
  }
  nua_respond (media.nh, SIP_200_OK,
      NUTAG_WITH_SAVED (media.saved_invite),
      SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
      SIPTAG_PAYLOAD_STR (sdp.c_str ()),
      TAG_END ());
  nua_destroy_event (media.saved_invite);
  media.have_saved_invite = false;

  g_message ("sipd: call %s: answered", call.id ().c_str ());
  set_state (call, CallState::kAnswered);
  if (media.negotiated)
    apply_negotiation (call, media.negotiation);   /* now send=true */
  return true;
}

bool
SipdCore::reject (Call &call, int status, const std::string &reason,
    guint retry_after_s)
{
  Call::Media &media = *call.media_;
  if (call.state_ != CallState::kOffered || !media.have_saved_invite ||
      status < 300 || status > 699)
    return false;
  const char *phrase = reason.empty () ? sip_status_phrase (status) : reason.c_str ();
  if (phrase == nullptr)
    phrase = "Rejected";
  if (status == 503 && retry_after_s == 0)
    retry_after_s = config_.retry_after_s;
  std::string retry = std::to_string (retry_after_s);
  nua_respond (media.nh, status, phrase,
      NUTAG_WITH_SAVED (media.saved_invite),
      TAG_IF (retry_after_s > 0, SIPTAG_RETRY_AFTER_STR (retry.c_str ())),
      TAG_END ());
  nua_destroy_event (media.saved_invite);
  media.have_saved_invite = false;
  g_message ("sipd: call %s: rejected %d %s", call.id ().c_str (), status, phrase);
  note_end (call, EndedBy::kLocal, status, phrase);
  /* nua reports the terminated state next; finish_call runs there. */
  return true;
}

bool
SipdCore::hangup (Call &call, const std::string &reason)
{
  Call::Media &media = *call.media_;
  switch (call.state_) {
    case CallState::kOffered:
      return reject (call, 480, reason.empty () ? "Temporarily Unavailable" :
          reason, 0);
    case CallState::kDialing:
    case CallState::kRinging:
      note_end (call, EndedBy::kLocal, 487, reason.empty () ? "cancelled" : reason);
      nua_cancel (media.nh, TAG_END ());
      return true;
    case CallState::kAnswered:
    case CallState::kConfirmed: {
      note_end (call, EndedBy::kLocal, 200, reason.empty () ? "hangup" : reason);
      std::string reason_header = "SIP;cause=200;text=\"" +
          (reason.empty () ? std::string ("hangup") : reason) + "\"";
      nua_bye (media.nh, SIPTAG_REASON_STR (reason_header.c_str ()), TAG_END ());
      g_message ("sipd: call %s: BYE sent", call.id ().c_str ());
      return true;
    }
    case CallState::kEnded:
      break;
  }
  return false;
}

void
SipdCore::on_i_reinvite (Call &call, const sip_t *sip)
{
  Call::Media &media = *call.media_;
  if (!has_sdp (sip)) {
    /* Session refresh or a request for our offer: offer what is in use,
     * the answer comes in the ACK. */
    std::string sdp = local_offer (call);
    media.awaiting_answer_in_ack = true;
    nua_respond (media.nh, SIP_200_OK, NUTAG_WITH_THIS (nua_),
        SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
        SIPTAG_PAYLOAD_STR (sdp.c_str ()), TAG_END ());
    return;
  }

  std::string why;
  std::optional<SdpDescription> offer = parse_sdp (payload_text (sip), &why);
  if (!offer) {
    g_message ("sipd: call %s: re-INVITE with malformed SDP: %s",
        call.id ().c_str (), why.c_str ());
    respond_error (media.nh, SIP_400_BAD_REQUEST, "malformed SDP: " + why, 0);
    return;
  }
  Negotiation negotiation = negotiate_answer (*offer, policy (&call));
  if (negotiation.status != NegotiationStatus::kOk) {
    /* The call goes on with the media it had (RFC 3261 14.2). */
    g_message ("sipd: call %s: re-INVITE refused: %s", call.id ().c_str (),
        negotiation.error.c_str ());
    respond_error (media.nh, SIP_488_NOT_ACCEPTABLE, negotiation.error, 0);
    return;
  }
  std::string sdp = local_sdp (call, answer_media_lines (*offer, negotiation,
          media.lease.port ()));
  nua_respond (media.nh, SIP_200_OK, NUTAG_WITH_THIS (nua_),
      SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
      SIPTAG_PAYLOAD_STR (sdp.c_str ()), TAG_END ());
  media.remote_offer = offer;
  apply_negotiation (call, negotiation);
}

void
SipdCore::on_i_ack (Call &call, const sip_t *sip)
{
  Call::Media &media = *call.media_;
  if (!media.awaiting_answer_in_ack)
    return;
  media.awaiting_answer_in_ack = false;

  std::string why;
  std::optional<SdpDescription> answer;
  if (has_sdp (sip))
    answer = parse_sdp (payload_text (sip), &why);
  else
    why = "no SDP answer in ACK";
  Negotiation negotiation;
  if (answer) {
    negotiation = read_answer (*answer, policy (&call));
    why = negotiation.error;
  }
  if (!answer || negotiation.status != NegotiationStatus::kOk) {
    /* RFC 3261 13.2.1 / 3264: no usable answer, end the session. */
    g_message ("sipd: call %s: bad answer in ACK: %s", call.id ().c_str (),
        why.c_str ());
    note_end (call, EndedBy::kError, 488, why);
    nua_bye (media.nh, SIPTAG_REASON_STR ("SIP;cause=488;text=\"no usable SDP answer\""),
        TAG_END ());
    return;
  }
  apply_negotiation (call, negotiation);
}

void
SipdCore::on_i_bye (Call &call)
{
  g_message ("sipd: call %s: BYE from remote", call.id ().c_str ());
  note_end (call, EndedBy::kRemote, 200, "remote hangup");
}

void
SipdCore::on_i_cancel (Call &call)
{
  g_message ("sipd: call %s: CANCEL from remote", call.id ().c_str ());
  note_end (call, EndedBy::kRemote, 487, "cancelled by caller");
  if (call.media_->have_saved_invite) {
    /* nua has answered 487 already; the saved request is moot. */
    nua_destroy_event (call.media_->saved_invite);
    call.media_->have_saved_invite = false;
  }
}

void
SipdCore::on_i_info (Call &call, const sip_t *sip)
{
  std::string type = sip && sip->sip_content_type && sip->sip_content_type->c_type ?
      sip->sip_content_type->c_type : "";
  std::optional<DtmfInfo> dtmf = parse_dtmf_info (type, payload_text (sip));
  if (!dtmf) {
    g_debug ("sipd: call %s: INFO %s ignored", call.id ().c_str (), type.c_str ());
    return;
  }
  g_message ("sipd: call %s: DTMF '%c' (%u ms) via INFO", call.id ().c_str (),
      dtmf->digit, dtmf->duration_ms);
  if (callbacks_.dtmf)
    callbacks_.dtmf (call.shared_from_this (), dtmf->digit, dtmf->duration_ms);
}

void
SipdCore::on_i_state (Call &call, int status, const char *phrase,
    tagi_t tags[])
{
  int callstate = nua_callstate_init;
  tl_gets (tags, NUTAG_CALLSTATE_REF (callstate), TAG_END ());
  switch (callstate) {
    case nua_callstate_ready:
      if (call.state_ == CallState::kAnswered)
        set_state (call, CallState::kConfirmed);
      break;
    case nua_callstate_terminated:
      finish_call (call, EndedBy::kError, status,
          phrase != nullptr ? phrase : "terminated");
      break;
    default:
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Outbound calls */

CallPtr
SipdCore::dial (const DialRequest &request, std::string *error)
{
  auto fail = [error] (const std::string &why) -> CallPtr {
    if (error != nullptr)
      *error = why;
    return nullptr;
  };
  if (nua_ == nullptr || shutting_down_)
    return fail ("shutting down");
  if (calls_.size () >= config_.max_calls)
    return fail ("call limit reached");
  if (request.to.empty ())
    return fail ("no destination");

  std::string headers;
  for (const auto &[name, value] : request.headers) {
    auto bad = [] (const std::string &s) {
      return s.find_first_of ("\r\n") != std::string::npos;
    };
    if (name.empty () || bad (name) || bad (value) ||
        name.find (':') != std::string::npos)
      return fail ("bad header '" + name + "'");
    headers += name + ": " + value + "\r\n";
  }

  std::vector<std::string> offer_codecs;
  for (const std::string &name : request.codecs) {
    auto known = std::find_if (config_.codecs.begin (), config_.codecs.end (),
        [&name] (const std::string &c) {
          return g_ascii_strcasecmp (c.c_str (), name.c_str ()) == 0;
        });
    if (known != config_.codecs.end () &&
        std::find (offer_codecs.begin (), offer_codecs.end (), *known) ==
        offer_codecs.end ())
      offer_codecs.push_back (*known);
  }
  if (!request.codecs.empty () && offer_codecs.empty ())
    return fail ("none of the requested codecs is enabled");

  std::string why;
  std::optional<RtpPortLease> lease = pool_.acquire (&why);
  if (!lease)
    return fail (why);

  std::string id;
  do
    id = random_call_id ();
  while (calls_.count (id) != 0 ||
      voxbridge::RtpCallRegistry::instance ().find (id) != nullptr);
  CallPtr call (new Call (this, id, CallDirection::kOutbound));
  Call::Media &media = *call->media_;
  media.lease = std::move (*lease);
  media.offer_codecs = std::move (offer_codecs);

  std::string route;
  if (!request.outbound_proxy.empty ())
    route = "<" + request.outbound_proxy + ";lr>";
  media.nh = nua_handle (nua_, reinterpret_cast<nua_hmagic_t *> (call.get ()),
      SIPTAG_TO_STR (request.to.c_str ()),
      TAG_IF (!request.from.empty (), SIPTAG_FROM_STR (request.from.c_str ())),
      TAG_IF (!route.empty (), NUTAG_INITIAL_ROUTE_STR (route.c_str ())),
      TAG_END ());
  if (media.nh == nullptr)
    return fail ("cannot create a SIP handle for " + request.to);

  voxbridge::RtpMediaParams params;
  params.send = false;   /* until the answer tells us where to */
  media.rtp = voxbridge::RtpCallRegistry::instance ().add (id,
      media.lease.socket (), params);
  calls_[id] = call;
  if (!media.rtp) {
    finish_call (*call, EndedBy::kError, 500, "media registry refused");
    return fail ("media registry refused " + id);
  }

  Variables &v = call->variables_;
  v["to.uri"] = request.to;
  v["request.uri"] = request.request_uri.empty () ? request.to : request.request_uri;
  v["from.uri"] = request.from;
  for (const auto &[name, value] : request.headers)
    v["header." + name] = value;
  v["rtp.port"] = std::to_string (media.lease.port ());
  v["rtp.local_address"] = media_address_;

  std::string sdp = local_offer (*call);
  nua_invite (media.nh,
      TAG_IF (!request.request_uri.empty (),
          NUTAG_URL (request.request_uri.c_str ())),
      SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
      SIPTAG_PAYLOAD_STR (sdp.c_str ()),
      TAG_IF (!headers.empty (), SIPTAG_HEADER_STR (headers.c_str ())),
      TAG_END ());
  g_message ("sipd: call %s: dialling %s", id.c_str (), request.to.c_str ());
  emit_state (*call);
  return call;
}

void
SipdCore::on_r_invite (Call &call, int status, const char *phrase,
    const sip_t *sip)
{
  if (sip != nullptr && sip->sip_call_id != nullptr &&
      call.variables_.count ("call.sip_id") == 0)
    call.variables_["call.sip_id"] = sip->sip_call_id->i_id;

  if (call.direction_ != CallDirection::kOutbound)
    return;
  if (status >= 180 && status < 200 && call.state_ == CallState::kDialing) {
    set_state (call, CallState::kRinging);
  } else if (status >= 200 && status < 300 &&
      (call.state_ == CallState::kDialing || call.state_ == CallState::kRinging)) {
    std::string why;
    std::optional<SdpDescription> answer;
    if (has_sdp (sip))
      answer = parse_sdp (payload_text (sip), &why);
    else
      why = "no SDP in 200 OK";
    Negotiation negotiation;
    if (answer) {
      negotiation = read_answer (*answer, policy (nullptr));
      why = negotiation.error;
    }
    /* Answered from here on (apply_negotiation lets RTP flow), but tell the
     * application only once the variables carry the negotiated media. */
    call.state_ = CallState::kAnswered;
    if (!answer || negotiation.status != NegotiationStatus::kOk) {
      g_message ("sipd: call %s: unusable answer: %s", call.id ().c_str (),
          why.c_str ());
      emit_state (call);
      note_end (call, EndedBy::kError, 488, why);
      nua_bye (call.media_->nh, SIPTAG_REASON_STR (
              "SIP;cause=488;text=\"no usable SDP answer\""), TAG_END ());
      return;
    }
    apply_negotiation (call, negotiation);
    emit_state (call);
    g_message ("sipd: call %s: answered by remote (%s)", call.id ().c_str (),
        negotiation.codec.name.c_str ());
  } else if (status >= 300) {
    note_end (call, EndedBy::kRemote, status, phrase != nullptr ? phrase : "");
  }
}

/* ------------------------------------------------------------------------ */
/* Transfer by REFER (RFC 3515). nua keeps the implicit subscription of the
 * refer event package: it answers the NOTIFYs (200) and reports them as
 * nua_i_notify with the subscription state; the sipfrag body is ours. */

const char *
refer_stage_to_string (ReferStage stage)
{
  switch (stage) {
    case ReferStage::kAccepted: return "accepted";
    case ReferStage::kTrying: return "trying";
    case ReferStage::kSucceeded: return "succeeded";
    case ReferStage::kRefused: return "refused";
    case ReferStage::kFailed: return "failed";
  }
  return "unknown";
}

bool
SipdCore::refer (Call &call, const std::string &refer_to, ReferCallback progress,
    guint timeout_s)
{
  Call::Media &media = *call.media_;
  if (call.state_ != CallState::kConfirmed || media.nh == nullptr ||
      media.refer_pending || !progress)
    return false;
  /* Only a bare SIP URI goes between the angle brackets. */
  if (refer_to.find_first_of ("<>\"\r\n \t") != std::string::npos)
    return false;
  su_home_t *home = static_cast<su_home_t *> (su_home_new (sizeof (su_home_t)));
  url_t *url = url_make (home, refer_to.c_str ());
  const bool sip_uri = url != nullptr && url->url_host != nullptr &&
      (url->url_type == url_sip || url->url_type == url_sips);
  su_home_unref (home);
  if (!sip_uri)
    return false;

  media.refer_pending = true;
  media.refer_accepted = false;
  media.refer_callback = std::move (progress);
  if (timeout_s > 0) {
    GSource *timeout = g_timeout_source_new_seconds (timeout_s);
    auto *data = new std::weak_ptr<Call> (call.shared_from_this ());
    g_source_set_callback (timeout, [] (gpointer user_data) -> gboolean {
          auto *w = static_cast<std::weak_ptr<Call> *> (user_data);
          if (CallPtr c = w->lock ()) {
            c->media_->refer_timeout_id = 0;
            if (c->core_ != nullptr && c->media_->refer_pending)
              c->core_->report_refer (*c, ReferStage::kFailed, 408,
                  "no final NOTIFY in time");
          }
          return G_SOURCE_REMOVE;
        }, data, [] (gpointer user_data) {
          delete static_cast<std::weak_ptr<Call> *> (user_data);
        });
    media.refer_timeout_id = g_source_attach (timeout, context_);
    g_source_unref (timeout);
  }
  const std::string header = "<" + refer_to + ">";
  nua_refer (media.nh, SIPTAG_REFER_TO_STR (header.c_str ()), TAG_END ());
  g_message ("sipd: call %s: REFER to %s", call.id ().c_str (), refer_to.c_str ());
  return true;
}

void
SipdCore::on_r_refer (Call &call, int status, const char *phrase)
{
  Call::Media &media = *call.media_;
  if (!media.refer_pending || status < 200)
    return;   /* nua's own 100, or a NOTIFY already settled it */
  const std::string text = phrase != nullptr ? phrase : "";
  if (status >= 300) {
    report_refer (call, ReferStage::kRefused, status, text);
  } else if (!media.refer_accepted) {
    media.refer_accepted = true;
    report_refer (call, ReferStage::kAccepted, status, text);
  }
}

void
SipdCore::on_i_notify (Call &call, const sip_t *sip, tagi_t tags[])
{
  Call::Media &media = *call.media_;
  if (!media.refer_pending)
    return;
  if (sip != nullptr && sip->sip_event != nullptr &&
      sip->sip_event->o_type != nullptr &&
      g_ascii_strcasecmp (sip->sip_event->o_type, "refer") != 0)
    return;
  int substate = nua_substate_active;
  tl_gets (tags, NUTAG_SUBSTATE_REF (substate), TAG_END ());

  const std::string body = payload_text (sip);
  const char *type = sip != nullptr && sip->sip_content_type != nullptr ?
      sip->sip_content_type->c_type : nullptr;
  if (!body.empty () && (type == nullptr ||
          g_ascii_strcasecmp (type, "message/sipfrag") == 0)) {
    std::string why;
    if (auto frag = parse_sipfrag_status (body, &why)) {
      media.refer_accepted = true;   /* a NOTIFY may overtake the 202 */
      if (frag->status < 200)
        report_refer (call, ReferStage::kTrying, frag->status, frag->phrase);
      else if (frag->status < 300)
        report_refer (call, ReferStage::kSucceeded, frag->status, frag->phrase);
      else
        report_refer (call, ReferStage::kFailed, frag->status, frag->phrase);
    } else {
      g_message ("sipd: call %s: NOTIFY with a bad sipfrag ignored: %s",
          call.id ().c_str (), why.c_str ());
    }
  } else if (!body.empty ()) {
    g_message ("sipd: call %s: NOTIFY with a %s body ignored",
        call.id ().c_str (), type);
  }
  if (media.refer_pending && substate == nua_substate_terminated)
    report_refer (call, ReferStage::kFailed, 0,
        "subscription ended without a final status");
}

void
SipdCore::report_refer (Call &call, ReferStage stage, int status,
    const std::string &phrase)
{
  Call::Media &media = *call.media_;
  ReferCallback callback = media.refer_callback;
  if (refer_stage_is_final (stage)) {
    media.refer_pending = false;
    media.refer_callback = nullptr;
    if (media.refer_timeout_id != 0) {
      g_source_remove (media.refer_timeout_id);
      media.refer_timeout_id = 0;
    }
  }
  g_message ("sipd: call %s: transfer %s (%d %s)", call.id ().c_str (),
      refer_stage_to_string (stage), status, phrase.c_str ());
  if (callback)
    callback (ReferProgress {stage, status, phrase});
}

/* ------------------------------------------------------------------------ */
/* Ending calls and the stack */

void
SipdCore::set_state (Call &call, CallState state)
{
  if (call.state_ == state)
    return;
  call.state_ = state;
  emit_state (call);
}

void
SipdCore::emit_state (Call &call)
{
  CallPtr keep = call.shared_from_this ();
  if (callbacks_.state_changed)
    callbacks_.state_changed (keep, call.state_);
  if (call.media_->listener.state_changed)
    call.media_->listener.state_changed (keep, call.state_);
}

void
SipdCore::note_end (Call &call, EndedBy by, int status,
    const std::string &reason)
{
  if (!call.media_->end)
    call.media_->end = CallEnd {by, status, reason};
}

void
SipdCore::finish_call (Call &call, EndedBy by, int status,
    const std::string &reason)
{
  if (call.state_ == CallState::kEnded)
    return;
  CallPtr keep = call.shared_from_this ();
  Call::Media &media = *call.media_;
  CallEnd end = media.end ? *media.end : CallEnd {by, status, reason};

  if (media.answer_timeout_id != 0) {
    g_source_remove (media.answer_timeout_id);
    media.answer_timeout_id = 0;
  }
  if (media.have_saved_invite) {
    nua_destroy_event (media.saved_invite);
    media.have_saved_invite = false;
  }
  if (media.nh != nullptr) {
    nua_handle_bind (media.nh, nullptr);
    nua_handle_destroy (media.nh);
    media.nh = nullptr;
  }
  if (media.rtp) {
    voxbridge::RtpCallRegistry::instance ().remove (call.id ());
    media.rtp.reset ();
  }
  media.lease.release ();
  calls_.erase (call.id ());
  call.core_ = nullptr;   /* answer()/hangup() on a kept CallPtr: no-ops */

  g_message ("sipd: call %s: ended by %s: %d %s", call.id ().c_str (),
      end.by == EndedBy::kLocal ? "us" : end.by == EndedBy::kRemote ?
      "remote" : "error", end.status, end.reason.c_str ());
  set_state (call, CallState::kEnded);
  /* After kEnded, so that the REFER's owner can tell why it failed. */
  if (media.refer_pending)
    report_refer (call, ReferStage::kFailed, 0, "call ended");
  if (callbacks_.ended)
    callbacks_.ended (keep, end);
  if (CallListener listener = std::move (media.listener); listener.ended)
    listener.ended (keep, end);

  if (shutting_down_ && calls_.empty ())
    stop_stack ();
}

void
SipdCore::shutdown (std::function<void ()> done)
{
  if (shutting_down_) {
    if (done) {
      auto previous = std::move (shutdown_done_);
      shutdown_done_ = [previous, done] () {
        if (previous)
          previous ();
        done ();
      };
    }
    return;
  }
  shutting_down_ = true;
  shutdown_done_ = std::move (done);
  g_message ("sipd: shutting down, %zu calls", calls_.size ());

  std::vector<CallPtr> active = calls ();
  for (const CallPtr &call : active) {
    if (call->state_ == CallState::kOffered)
      reject (*call, 503, "Service Unavailable", 0);
    else
      hangup (*call, "shutdown");
  }
  if (calls_.empty ()) {
    stop_stack ();
    return;
  }
  /* Peers that never answer our BYE must not hold the shutdown forever. */
  GSource *timeout = g_timeout_source_new_seconds (kShutdownGraceS);
  g_source_set_callback (timeout, [] (gpointer data) -> gboolean {
        auto *self = static_cast<SipdCore *> (data);
        self->shutdown_timeout_id_ = 0;
        self->stop_stack ();
        return G_SOURCE_REMOVE;
      }, this, nullptr);
  shutdown_timeout_id_ = g_source_attach (timeout, context_);
  g_source_unref (timeout);
}

void
SipdCore::stop_stack ()
{
  if (stack_stopping_ || nua_ == nullptr)
    return;
  stack_stopping_ = true;
  if (shutdown_timeout_id_ != 0) {
    g_source_remove (shutdown_timeout_id_);
    shutdown_timeout_id_ = 0;
  }
  nua_shutdown (nua_);
}

void
SipdCore::on_r_shutdown (int status, const char *phrase)
{
  if (status < 200)
    return;   /* still terminating sessions */
  g_message ("sipd: SIP stack shut down (%d %s)", status, phrase ? phrase : "");
  /* nua_destroy() may not run inside the nua callback. */
  GSource *idle = g_idle_source_new ();
  g_source_set_callback (idle, [] (gpointer data) -> gboolean {
        static_cast<SipdCore *> (data)->destroy_stack ();
        return G_SOURCE_REMOVE;
      }, this, nullptr);
  g_source_attach (idle, context_);
  g_source_unref (idle);
}

void
SipdCore::destroy_stack ()
{
  std::vector<CallPtr> left = calls ();
  for (const CallPtr &call : left)
    finish_call (*call, EndedBy::kLocal, 503, "shutdown");
  if (nua_ != nullptr) {
    nua_destroy (nua_);
    nua_ = nullptr;
  }
  if (auto done = std::move (shutdown_done_)) {
    shutdown_done_ = nullptr;
    done ();
  }
}

CallPtr
SipdCore::find_call (const std::string &id) const
{
  auto it = calls_.find (id);
  return it != calls_.end () ? it->second : nullptr;
}

std::vector<CallPtr>
SipdCore::calls () const
{
  std::vector<CallPtr> result;
  for (const auto &[id, call] : calls_)
    result.push_back (call);
  return result;
}

/* ------------------------------------------------------------------------ */
/* Public wrappers */

bool
Call::answer ()
{
  return core_ != nullptr && core_->answer (*this);
}

bool
Call::reject (int status, const std::string &reason, guint retry_after_s)
{
  return core_ != nullptr && core_->reject (*this, status, reason, retry_after_s);
}

bool
Call::hangup (const std::string &reason)
{
  return core_ != nullptr && core_->hangup (*this, reason);
}

bool
Call::refer (const std::string &refer_to, ReferCallback progress,
    guint timeout_s)
{
  return core_ != nullptr &&
      core_->refer (*this, refer_to, std::move (progress), timeout_s);
}

void
Call::set_listener (CallListener listener)
{
  if (core_ != nullptr)
    media_->listener = std::move (listener);
}

std::unique_ptr<Sipd>
Sipd::create (GMainContext *context, Config config, Callbacks callbacks,
    std::string *error)
{
  std::unique_ptr<Sipd> sipd (new Sipd ());
  sipd->core_ = std::make_unique<SipdCore> (context != nullptr ? context :
      g_main_context_default (), std::move (config), std::move (callbacks));
  if (!sipd->core_->start (error))
    return nullptr;
  return sipd;
}

Sipd::~Sipd () = default;

const Config &
Sipd::config () const
{
  return core_->config_;
}

CallPtr
Sipd::find_call (const std::string &call_id) const
{
  return core_->find_call (call_id);
}

std::vector<CallPtr>
Sipd::calls () const
{
  return core_->calls ();
}

bool
Sipd::hangup (const std::string &call_id, const std::string &reason)
{
  CallPtr call = core_->find_call (call_id);
  return call && call->hangup (reason);
}

CallPtr
Sipd::dial (const DialRequest &request, std::string *error)
{
  return core_->dial (request, error);
}

void
Sipd::shutdown (std::function<void ()> done)
{
  core_->shutdown (std::move (done));
}

size_t
Sipd::rtp_ports_in_use () const
{
  return core_->pool_.in_use ();
}

guint16
Sipd::sip_port () const
{
  return core_->sip_port_;
}

}  // namespace voxbridge::sipd
