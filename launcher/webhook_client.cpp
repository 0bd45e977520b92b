/* HTTP POST of JSON with libsoup 3, with a per-request timeout. */

#include "webhook_client.h"

#include <libsoup/soup.h>

#include <set>

namespace voxbridge::launcher {

namespace {

/* One request in flight. Freed by its completion callback, which libsoup
 * always calls (also after a cancel). */
struct Pending {
  WebhookClient *owner = nullptr;   /* nullptr once the client is gone */
  std::set<Pending *> *registry = nullptr;
  SoupMessage *message = nullptr;
  GCancellable *cancellable = nullptr;
  GSource *timer = nullptr;
  guint timeout_ms = 0;
  gsize max_body_bytes = 0;
  bool timed_out = false;
  WebhookCallback done;

  ~Pending ()
  {
    if (timer) {
      g_source_destroy (timer);
      g_source_unref (timer);
    }
    g_clear_object (&message);
    g_clear_object (&cancellable);
  }
};

}  // namespace

struct WebhookClient::Impl {
  GMainContext *context = nullptr;
  SoupSession *session = nullptr;
  std::set<Pending *> pending;
};

WebhookClient::WebhookClient () : impl_ (new Impl)
{
  impl_->context = g_main_context_ref_thread_default ();
  /* Timeouts are ours (milliseconds, whole exchange); libsoup's own are off. */
  impl_->session = soup_session_new_with_options ("user-agent", "voxbridge",
      "timeout", 0, "idle-timeout", 60, nullptr);
}

WebhookClient::~WebhookClient ()
{
  for (Pending *p : impl_->pending) {
    p->owner = nullptr;
    p->registry = nullptr;
    g_cancellable_cancel (p->cancellable);
  }
  g_object_unref (impl_->session);
  g_main_context_unref (impl_->context);
}

guint
WebhookClient::pending () const
{
  return impl_->pending.size ();
}

static void
finish (Pending * p, const WebhookResult & result)
{
  if (p->registry)
    p->registry->erase (p);
  WebhookCallback done = std::move (p->done);
  const bool abandoned = p->owner == nullptr;
  delete p;
  if (!abandoned)
    done (result);
}

static gboolean
on_timeout (gpointer data)
{
  auto *p = static_cast<Pending *> (data);
  p->timed_out = true;
  g_source_unref (p->timer);
  p->timer = nullptr;
  g_cancellable_cancel (p->cancellable);   /* completion reports it */
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject * source, GAsyncResult * res, gpointer data)
{
  auto *p = static_cast<Pending *> (data);
  GError *err = nullptr;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &err);
  WebhookResult result;
  if (p->timed_out) {
    result.timed_out = true;
    result.error = "no answer within " + std::to_string (p->timeout_ms) + " ms";
  } else if (err) {
    result.error = err->message;
  } else {
    result.status = soup_message_get_status (p->message);
    const char *reason = soup_message_get_reason_phrase (p->message);
    result.reason = reason ? reason : "";
    gsize size = 0;
    const char *bytes = static_cast<const char *> (g_bytes_get_data (body, &size));
    if (size > p->max_body_bytes)
      result.error = "answer of " + std::to_string (size) + " bytes is larger than "
          + std::to_string (p->max_body_bytes) + " bytes";
    else if (bytes)
      result.body.assign (bytes, size);
  }
  g_clear_error (&err);
  if (body)
    g_bytes_unref (body);
  finish (p, result);
}

void
WebhookClient::post_json (const WebhookRequest & request, WebhookCallback done)
{
  auto *p = new Pending;
  p->owner = this;
  p->registry = &impl_->pending;
  p->timeout_ms = request.timeout_ms;
  p->max_body_bytes = request.max_body_bytes;
  p->done = std::move (done);
  impl_->pending.insert (p);

  GError *err = nullptr;
  GUri *uri = g_uri_parse (request.url.c_str (), (GUriFlags) SOUP_HTTP_URI_FLAGS, &err);
  const char *scheme = uri ? g_uri_get_scheme (uri) : nullptr;
  if (!uri || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)
      || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    /* Called back later, like every other outcome. */
    WebhookResult result;
    result.error = "'" + request.url + "' is not an http:// or https:// URL";
    g_clear_error (&err);
    if (uri)
      g_uri_unref (uri);
    GSource *idle = g_idle_source_new ();
    auto *args = new std::pair<Pending *, WebhookResult> (p, result);
    g_source_set_callback (idle, [] (gpointer data) -> gboolean {
          auto *a = static_cast<std::pair<Pending *, WebhookResult> *> (data);
          finish (a->first, a->second);
          delete a;
          return G_SOURCE_REMOVE;
        }, args, nullptr);
    g_source_attach (idle, impl_->context);
    g_source_unref (idle);
    return;
  }

  p->message = soup_message_new_from_uri (SOUP_METHOD_POST, uri);
  g_uri_unref (uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers (p->message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (!request.bearer_token.empty ())
    soup_message_headers_replace (headers, "Authorization",
        ("Bearer " + request.bearer_token).c_str ());
  GBytes *body = g_bytes_new (request.json_body.data (), request.json_body.size ());
  soup_message_set_request_body_from_bytes (p->message, "application/json", body);
  g_bytes_unref (body);

  p->cancellable = g_cancellable_new ();
  if (request.timeout_ms > 0) {
    p->timer = g_timeout_source_new (request.timeout_ms);
    g_source_set_callback (p->timer, on_timeout, p, nullptr);
    g_source_attach (p->timer, impl_->context);
  }
  soup_session_send_and_read_async (impl_->session, p->message, G_PRIORITY_DEFAULT,
      p->cancellable, on_sent, p);
}

}  // namespace voxbridge::launcher
