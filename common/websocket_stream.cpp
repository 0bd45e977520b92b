/* Non-blocking WebSocket byte I/O; see websocket_stream.h. */
#include "websocket_stream.h"

namespace voxbridge::realtime {

namespace {

constexpr gsize kReadChunk = 16 * 1024;

}  // namespace

WsReadResult
ws_read_available (GPollableInputStream *input, WsFrameReader &reader, bool drain,
    std::string *error)
{
  for (;;) {
    guint8 *space = reader.space (kReadChunk);
    GError *err = nullptr;
    const gssize count = g_pollable_input_stream_read_nonblocking (input, space, kReadChunk,
        nullptr, &err);
    if (count < 0) {
      reader.commit (0);
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        return WsReadResult::kOk;
      }
      *error = err->message;
      g_error_free (err);
      return WsReadResult::kError;
    }
    reader.commit (count);
    if (count == 0)
      return WsReadResult::kEnd;
    if (static_cast<gsize> (count) < kReadChunk && !drain)
      return WsReadResult::kOk;
  }
}

bool
WsOutput::flush (std::string *error)
{
  while (sent_ < outgoing_.size ()) {
    GError *err = nullptr;
    const gssize count = g_pollable_output_stream_write_nonblocking (output_,
        outgoing_.data () + sent_, outgoing_.size () - sent_, nullptr, &err);
    if (count < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        if (!source_) {
          source_ = g_pollable_output_stream_create_source (output_, nullptr);
          g_source_set_callback (source_, G_SOURCE_FUNC (on_writable), this, nullptr);
          g_source_attach (source_, g_main_context_get_thread_default ());
        }
        return true;
      }
      *error = err->message;
      g_error_free (err);
      return false;
    }
    sent_ += count;
    /* A reader that keeps up only in part: drop what went out. */
    if (sent_ > 1024 * 1024 && sent_ < outgoing_.size ()) {
      outgoing_.erase (outgoing_.begin (), outgoing_.begin () + sent_);
      sent_ = 0;
    }
  }
  outgoing_.clear ();
  sent_ = 0;
  stop ();
  return true;
}

void
WsOutput::stop ()
{
  if (source_) {
    g_source_destroy (source_);
    g_clear_pointer (&source_, g_source_unref);
  }
}

gboolean
WsOutput::on_writable (GObject *, gpointer data)
{
  static_cast<WsOutput *> (data)->on_writable_ ();
  return G_SOURCE_CONTINUE;
}

}  // namespace voxbridge::realtime
