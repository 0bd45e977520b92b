#pragma once
/* The deployment config of the launcher: which SIP addresses to listen on,
 * which Realtime endpoint to use, the HTTP API, the event log, and the routes
 * that pick a pipeline description for each incoming call. The format is an
 * INI file read with GKeyFile; launcher/CONFIG.md documents every key.
 *
 * Parsing is pure (text in, config and diagnostics out): secrets named by
 * environment variable are resolved by the caller, not here. */

#include <glib.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace voxbridge::launcher {

/* One problem found in a config file. line is 1-based, 0 when unknown;
 * section/key are empty when the problem is not about one key. */
struct ConfigDiagnostic {
  enum class Severity { Warning, Error };
  Severity severity = Severity::Error;
  std::string file;
  int line = 0;
  std::string section;
  std::string key;
  std::string message;

  /* "file:12: error: [route connect] pipeline: no such file ..." */
  std::string to_string () const;
};

enum class SipTransport { Udp, Tcp, Tls };

struct SipListenAddress {
  SipTransport transport = SipTransport::Udp;
  std::string host;          /* literal address or name, no brackets */
  guint16 port = 5060;

  /* The same address as a Sofia-SIP NUTAG_URL: "sip:0.0.0.0:5060;transport=udp". */
  std::string sofia_url () const;
};

struct SipSettings {
  std::vector<SipListenAddress> listen;
  std::string media_address;   /* the address put into SDP c= lines */
  guint16 rtp_port_min = 20000;
  guint16 rtp_port_max = 29999;
  guint max_calls = 100;
};

enum class AiAuth { Auto, Bearer, ApiKey };

struct AiSettings {
  std::string url;             /* ws:// or wss:// Realtime endpoint */
  AiAuth auth = AiAuth::Auto;
  std::string key_env;         /* name of the environment variable holding the key */
  std::string key;             /* inline key (discouraged, warned about) */
  std::string ca_file;
  std::string model;           /* model or Azure deployment name */
  /* How long a call waits for its AI session before it is refused (503). */
  guint connect_timeout_s = 10;

  /* url with ?model=<model> added when the url has no model parameter. */
  std::string effective_url () const;
  /* Auto resolved by host: Azure hosts use the api-key header, others Bearer. */
  AiAuth effective_auth () const;
};

struct HttpSettings {
  std::string host = "127.0.0.1";
  guint16 port = 8080;
  std::string token_env;       /* environment variable holding the bearer token */
  std::string token;           /* inline token (discouraged, warned about) */
};

enum class EventLogFormat { Text, Json };

struct LogSettings {
  EventLogFormat format = EventLogFormat::Text;
  std::string events_file;     /* empty: standard output */
};

/* One condition of a route: on the request-URI user (header empty) or on
 * a SIP header (name in lower case). */
class MatchRule {
 public:
  enum class Kind { Glob, Regex, Present };

  /* Returns nullopt and sets @error when @pattern does not compile. */
  static std::optional<MatchRule> create (std::string header, Kind kind,
      std::string pattern, std::string & error);

  /* @value is nullptr when the header is absent. */
  bool matches (const char *value) const;

  const std::string & header () const { return header_; }
  Kind kind () const { return kind_; }
  const std::string & pattern () const { return pattern_; }

 private:
  MatchRule () = default;
  std::string header_;
  Kind kind_ = Kind::Glob;
  std::string pattern_;
  std::shared_ptr<GPatternSpec> glob_;
  std::shared_ptr<GRegex> regex_;
};

/* [tool NAME]: a custom tool the model may call, served by a webhook. */
struct ToolSettings {
  std::string name;
  std::string description;
  std::string parameters_json;   /* JSON schema object of the arguments */
  std::string url;               /* http:// or https:// endpoint, POSTed to */
  guint timeout_ms = 5000;
  std::string token_env;         /* environment variable with the bearer token */
};

enum class RecordingFormat { Off, Wav, Ogg };

/* What a route keeps of its calls (launcher/CONFIG.md: recording, transcript,
 * summary). */
struct CallRecordSettings {
  RecordingFormat recording = RecordingFormat::Off;
  bool transcript = false;
  std::string dir;             /* recording-dir: recordings and transcripts */
  bool summary = false;
  std::string summary_webhook; /* empty: the summary goes to the event stream only */
  guint summary_timeout_s = 15;

  bool any () const { return recording != RecordingFormat::Off || transcript || summary; }
};

struct Route {
  std::string name;
  int priority = 0;            /* higher is tried first; ties keep file order */
  int position = 0;            /* index of the section in the file */
  std::vector<MatchRule> rules;  /* all must match; none matches every call */
  std::string pipeline_file;   /* resolved against the config file's directory */
  std::string fallback_pipeline_file;  /* empty: hang up on failure */
  std::string instructions;
  std::string voice;
  std::string greeting;
  std::optional<bool> barge_in;  /* unset: the pipeline's realtimesink decides */
  bool dtmf_to_ai = true;        /* the caller's keys reach the model as a message */
  guint dtmf_inter_digit_ms = 1500;  /* keys closer than this form one message */
  guint silence_timeout_s = 0;   /* caller silence before the model checks in; 0 off */
  std::string prompt;          /* audio file for fallback pipelines */
  std::map<std::string, std::string> vars;  /* var.NAME = value */
  CallRecordSettings record;
  std::vector<std::string> tools;  /* built-ins and [tool NAME]s the model may call */
  std::string transfer_target;     /* sip: URI for the transfer_call tool */
};

struct DeploymentConfig {
  std::string file;
  SipSettings sip;
  AiSettings ai;
  HttpSettings http;
  LogSettings log;
  std::vector<Route> routes;   /* in matching order */
  std::map<std::string, ToolSettings> tools;   /* [tool NAME] sections */
};

struct ConfigLoadResult {
  std::optional<DeploymentConfig> config;   /* set when there is no error */
  std::vector<ConfigDiagnostic> diagnostics;  /* errors and warnings */

  bool ok () const { return config.has_value (); }
  size_t error_count () const;
};

/* Parses and validates @text; @file_name is used in diagnostics and to
 * resolve relative paths (pipeline files, ca-file, prompts). */
ConfigLoadResult parse_deployment_config (const std::string & text,
    const std::string & file_name);

/* Reads @path and parses it. */
ConfigLoadResult load_deployment_config (const std::string & path);

const char *sip_transport_name (SipTransport transport);
const char *ai_auth_name (AiAuth auth);
/* "off", "wav", "ogg". */
const char *recording_format_name (RecordingFormat format);

}  // namespace voxbridge::launcher
