#pragma once
/* The byte I/O both ends of a WebSocket share (the realtime elements'
 * client, the sim's server): reading what a non-blocking stream has into a
 * WsFrameReader, and writing frames without ever blocking the thread that
 * serves every connection. */

#include <gio/gio.h>

#include <functional>
#include <string>
#include <vector>

#include "websocket_frame.h"

namespace voxbridge::realtime {

enum class WsReadResult { kOk, kEnd, kError };

/* Reads what @input has into @reader: until a short read emptied the
 * socket, or with @drain until it would block (a TLS layer may hold
 * decrypted bytes the socket no longer shows). kEnd: the peer closed the
 * stream; kError: @error says why. */
WsReadResult ws_read_available (GPollableInputStream *input, WsFrameReader &reader, bool drain,
    std::string *error);

/* Frames waiting to be written: written at once while the stream takes
 * them, and from a write source only while it is congested. */
class WsOutput {
 public:
  /* @on_writable: the stream takes bytes again; it should call flush(). */
  WsOutput (GPollableOutputStream *output, std::function<void ()> on_writable)
    : output_ (output), on_writable_ (std::move (on_writable)) {}
  ~WsOutput () { stop (); }
  WsOutput (const WsOutput &) = delete;
  WsOutput &operator= (const WsOutput &) = delete;

  /* Where the next frames are appended. */
  std::vector<guint8> *buffer () { return &outgoing_; }
  gsize unsent () const { return outgoing_.size () - sent_; }
  /* Waiting for the stream to take bytes again: flush() would not write. */
  bool congested () const { return source_ != nullptr; }
  /* Writes what the stream takes now. False and @error when writing failed. */
  bool flush (std::string *error);
  /* No more writing: the write source goes. */
  void stop ();

 private:
  static gboolean on_writable (GObject *stream, gpointer data);

  GPollableOutputStream *output_;
  std::function<void ()> on_writable_;
  std::vector<guint8> outgoing_;
  gsize sent_ = 0;
  GSource *source_ = nullptr;
};

}  // namespace voxbridge::realtime
