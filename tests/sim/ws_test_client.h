#pragma once

/* A libsoup 3 WebSocket client for talking to the sim in tests. Runs on the
 * thread-default GMainContext; the wait functions iterate it. */

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

namespace voxbridge::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

/* Iterates the thread-default context until @done() or @timeout_ms. */
bool run_until (const std::function<bool ()> &done, int timeout_ms);

/* Plain HTTP GET (no upgrade): status and body. Accepts any TLS certificate. */
std::pair<guint, std::string> http_get (const std::string &url, const Headers &headers = {});

class WsTestClient {
 public:
  WsTestClient ();
  ~WsTestClient ();
  WsTestClient (const WsTestClient &) = delete;
  WsTestClient &operator= (const WsTestClient &) = delete;

  /* Starts connecting (accepting any TLS certificate). */
  void connect_async (const std::string &url, const Headers &headers = {});
  /* connect_async + wait; true when the WebSocket opened. */
  bool connect (const std::string &url, const Headers &headers = {}, int timeout_ms = 10000);
  bool connect_done () const { return connect_done_; }
  bool is_open () const;
  guint http_status () const { return http_status_; }

  void send (const std::string &json);
  /* A text frame of exactly @bytes (NUL bytes included). */
  void send_text_bytes (const std::string &bytes);
  void send_append (const std::vector<uint8_t> &bytes);

  /* Next event of @type after the previous wait_for() match (events keep
   * their order); nullptr on timeout. The object lives as long as the client. */
  JsonObject *wait_for (const std::string &type, int timeout_ms = 15000);
  /* All received events of @type so far. */
  std::vector<JsonObject *> all (const std::string &type) const;
  size_t count (const std::string &type) const { return all (type).size (); }
  /* Concatenated decoded bytes of all response.output_audio.delta so far. */
  std::vector<uint8_t> audio_received () const;
  size_t event_count () const { return events_.size (); }

 private:
  static void on_connected (GObject *source, GAsyncResult *result, gpointer user_data);
  static void on_message (SoupWebsocketConnection *conn, gint type, GBytes *message,
      gpointer user_data);

  SoupSession *session_;
  SoupMessage *msg_ = nullptr;
  SoupWebsocketConnection *conn_ = nullptr;
  bool connect_done_ = false;
  guint http_status_ = 0;
  std::vector<JsonNode *> events_;
  std::vector<std::string> types_;
  size_t cursor_ = 0;
};

}  // namespace voxbridge::test
