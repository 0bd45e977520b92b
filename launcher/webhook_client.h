#pragma once
/* Posts JSON to an HTTP(S) URL and hands back the answer: the webhook side of
 * custom tools (and of anything else the daemon reports to a web service,
 * e.g. an end-of-call summary).
 *
 * libsoup 3, non-blocking, on the thread-default main context of the thread
 * that created the client (the daemon's main context). Every post ends in
 * exactly one callback, on that context, never from inside post_json: with
 * the HTTP status and body, or with an error (timeout, connection refused,
 * TLS, ...). Destroying the client cancels what is pending without calling
 * back. */

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

namespace voxbridge::launcher {

struct WebhookResult {
  guint status = 0;        /* HTTP status; 0 when there was no answer */
  std::string reason;      /* HTTP reason phrase */
  std::string body;
  std::string error;       /* why there was no answer; empty when there was one */
  bool timed_out = false;

  /* An answer with a 2xx status. */
  bool ok () const { return error.empty () && status >= 200 && status < 300; }
};

using WebhookCallback = std::function<void (const WebhookResult & result)>;

struct WebhookRequest {
  std::string url;               /* http:// or https:// */
  std::string json_body;         /* sent as application/json */
  guint timeout_ms = 5000;       /* whole exchange, connect to last byte */
  std::string bearer_token;      /* empty: no Authorization header */
  gsize max_body_bytes = 1024 * 1024;   /* a longer answer is an error */
};

class WebhookClient {
 public:
  WebhookClient ();
  ~WebhookClient ();
  WebhookClient (const WebhookClient &) = delete;
  WebhookClient & operator= (const WebhookClient &) = delete;

  /* Starts the POST; @done is called once, later, on this client's context. */
  void post_json (const WebhookRequest & request, WebhookCallback done);

  /* Requests started and not yet called back. */
  guint pending () const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxbridge::launcher
