#include "siprtp_binding.h"

#include <cstdlib>
#include <cstring>
#include <map>

namespace voxbridge {

namespace {

/* How many elements use each synthetic "port:<n>" call; the last one to let
 * go removes it from the registry, which closes the socket. */
std::mutex explicit_lock;
std::map<std::string, guint> explicit_users;

std::string
explicit_call_id (guint16 port)
{
  return "port:" + std::to_string (port);
}

GSocket *
open_udp_socket (const std::string & address, guint port, GError ** error)
{
  GInetAddress *inet = g_inet_address_new_from_string (address.c_str ());
  if (inet == nullptr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", address.c_str ());
    return nullptr;
  }
  GSocket *socket = g_socket_new (g_inet_address_get_family (inet),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket != nullptr) {
    GSocketAddress *bind_address = g_inet_socket_address_new (inet, port);
    if (!g_socket_bind (socket, bind_address, FALSE, error))
      g_clear_object (&socket);
    g_object_unref (bind_address);
  }
  g_object_unref (inet);
  return socket;
}

/* Lays the explicitly set fields of @settings over @params. */
bool
apply_explicit (const ExplicitRtpSettings & settings, RtpMediaParams * params,
    GError ** error)
{
  if (!settings.remote.empty ()) {
    std::string host;
    guint16 port;
    if (!parse_host_port (settings.remote, &host, &port)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "remote '%s' is not host:port", settings.remote.c_str ());
      return false;
    }
    params->remote_address = host;
    params->remote_port = port;
  }
  if (settings.payload_type) {
    params->payload_type = static_cast<guint8> (*settings.payload_type);
    if (settings.encoding.empty ())
      params->encoding_name = *settings.payload_type == 8 ? "PCMA" : "PCMU";
  }
  if (!settings.encoding.empty ())
    params->encoding_name = settings.encoding;
  if (settings.dtmf_payload_type)
    params->dtmf_payload_type = *settings.dtmf_payload_type;
  if (settings.ptime_ms)
    params->ptime_ms = *settings.ptime_ms;
  G711 codec;
  return g711_from_params (*params, &codec, error);
}

}  // namespace

bool
g711_from_params (const RtpMediaParams & params, G711 * codec, GError ** error)
{
  const std::string & name = params.encoding_name;
  bool pcmu = g_ascii_strcasecmp (name.c_str (), "PCMU") == 0;
  bool pcma = g_ascii_strcasecmp (name.c_str (), "PCMA") == 0;
  if ((!pcmu && !pcma) || (pcmu && params.payload_type == 8) ||
      (pcma && params.payload_type == 0) ||
      (params.payload_type != 0 && params.payload_type != 8 &&
          params.payload_type < 96) || params.payload_type > 127) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "payload type %u / encoding '%s' is not G.711 (PCMU 0, PCMA 8)",
        params.payload_type, name.c_str ());
    return false;
  }
  if (params.clock_rate != 8000) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "G.711 runs at 8000 Hz, not %u", params.clock_rate);
    return false;
  }
  *codec = pcmu ? G711::PCMU : G711::PCMA;
  return true;
}

const char *
g711_caps_name (G711 codec)
{
  return codec == G711::PCMU ? "audio/x-mulaw" : "audio/x-alaw";
}

guint8
g711_silence_byte (G711 codec)
{
  /* The codes of a zero sample. */
  return codec == G711::PCMU ? 0xff : 0xd5;
}

bool
parse_host_port (const std::string & text, std::string * host, guint16 * port)
{
  size_t colon = text.rfind (':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size ())
    return false;
  std::string h = text.substr (0, colon);
  if (h.front () == '[' && h.back () == ']')
    h = h.substr (1, h.size () - 2);
  else if (h.find (':') != std::string::npos)
    return false;               /* bare IPv6 needs brackets */
  const std::string p = text.substr (colon + 1);
  char *end = nullptr;
  unsigned long value = std::strtoul (p.c_str (), &end, 10);
  if (h.empty () || *end != '\0' || value == 0 || value > 65535)
    return false;
  *host = h;
  *port = static_cast<guint16> (value);
  return true;
}

void
answer_caps_query (GstQuery * query, GstCaps * caps)
{
  GstCaps *filter = nullptr;
  gst_query_parse_caps (query, &filter);
  if (filter) {
    GstCaps *intersection = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = intersection;
  }
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
}

std::string
socket_address_to_string (GSocketAddress * address)
{
  if (address == nullptr || !G_IS_INET_SOCKET_ADDRESS (address))
    return "";
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  gchar *host =
      g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  guint16 port = g_inet_socket_address_get_port (inet);
  std::string result = std::string (strchr (host, ':') ? "[" : "") + host +
      (strchr (host, ':') ? "]" : "") + ":" + std::to_string (port);
  g_free (host);
  return result;
}

CallBinding::CallBinding (std::shared_ptr<RtpCall> call, bool explicit_port)
  : call_ (std::move (call)), mailbox_ (std::make_shared<Mailbox> ()),
    explicit_port_ (explicit_port)
{
  std::weak_ptr<Mailbox> weak = mailbox_;
  /* Lock the mailbox while subscribing and taking the current parameters so
   * an update racing with us cannot be overwritten by older parameters. */
  std::lock_guard<std::mutex> guard (mailbox_->lock);
  listener_id_ = call_->add_listener ([weak] (const RtpMediaParams & params) {
        if (auto mailbox = weak.lock ()) {
          std::lock_guard<std::mutex> guard (mailbox->lock);
          mailbox->params = params;
          mailbox->generation++;
        }
      });
  mailbox_->params = call_->params ();
  mailbox_->generation++;
}

CallBinding::~CallBinding ()
{
  call_->remove_listener (listener_id_);
  if (!explicit_port_)
    return;
  std::lock_guard<std::mutex> guard (explicit_lock);
  auto it = explicit_users.find (call_->id ());
  if (it != explicit_users.end () && --it->second == 0) {
    explicit_users.erase (it);
    RtpCallRegistry::instance ().remove (call_->id ());
  }
}

RtpMediaParams
CallBinding::params () const
{
  std::lock_guard<std::mutex> guard (mailbox_->lock);
  return mailbox_->params;
}

std::unique_ptr<CallBinding>
CallBinding::bind_call (const std::string & call_id, GError ** error)
{
  auto call = RtpCallRegistry::instance ().find (call_id);
  if (!call) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "no call '%s' is registered", call_id.c_str ());
    return nullptr;
  }
  return std::unique_ptr<CallBinding> (new CallBinding (call, false));
}

std::unique_ptr<CallBinding>
CallBinding::bind_explicit (const ExplicitRtpSettings & settings,
    GError ** error)
{
  if (settings.port > 65535) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "port %u out of range", settings.port);
    return nullptr;
  }
  auto & registry = RtpCallRegistry::instance ();
  std::lock_guard<std::mutex> guard (explicit_lock);

  std::shared_ptr<RtpCall> call;
  if (settings.port != 0) {
    std::string id = explicit_call_id (static_cast<guint16> (settings.port));
    if (explicit_users.count (id) != 0)
      call = registry.find (id);
  }

  if (call) {
    /* The other element of this port opened the socket: add what this one
     * knows (e.g. only the sink was given remote=). */
    RtpMediaParams params = call->params ();
    if (!apply_explicit (settings, &params, error))
      return nullptr;
    call->update (params);
  } else {
    RtpMediaParams params;
    if (!apply_explicit (settings, &params, error))
      return nullptr;
    GSocket *socket = open_udp_socket (settings.address, settings.port, error);
    if (socket == nullptr)
      return nullptr;
    GSocketAddress *local = g_socket_get_local_address (socket, nullptr);
    guint16 port = local ?
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) : 0;
    g_clear_object (&local);
    call = registry.add (explicit_call_id (port), socket, params);
    g_object_unref (socket);
    if (!call) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
          "call '%s' is already registered", explicit_call_id (port).c_str ());
      return nullptr;
    }
  }
  explicit_users[call->id ()]++;
  return std::unique_ptr<CallBinding> (new CallBinding (call, true));
}

}  // namespace voxbridge
