/* RFC 6455 framing, client and server side. */
#include "websocket_frame.h"

#include <cstring>

namespace voxbridge::realtime {

namespace {

constexpr const char *kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr guint64 kMaxControlPayload = 125;

/* XOR with the 4-byte mask, 8 bytes at a time where possible. */
void
apply_mask (guint8 * data, gsize size, const guint8 mask[4])
{
  guint64 wide;
  guint8 *w = reinterpret_cast<guint8 *> (&wide);
  for (int i = 0; i < 8; i++)
    w[i] = mask[i % 4];
  gsize i = 0;
  for (; i + 8 <= size; i += 8) {
    guint64 chunk;
    memcpy (&chunk, data + i, 8);
    chunk ^= wide;
    memcpy (data + i, &chunk, 8);
  }
  for (; i < size; i++)
    data[i] ^= mask[i % 4];
}

/* @key: the 4-byte mask of a client frame, nullptr for a server frame. */
void
encode_frame (WsOpcode opcode, const guint8 * payload, gsize size, const guint8 * key,
    std::vector<guint8> * out)
{
  const guint8 mask_bit = key ? 0x80 : 0x00;
  guint8 header[14];
  gsize at = 0;
  header[at++] = 0x80 | static_cast<guint8> (opcode);   /* FIN: we never fragment */
  if (size < 126) {
    header[at++] = mask_bit | static_cast<guint8> (size);
  } else if (size <= G_MAXUINT16) {
    header[at++] = mask_bit | 126;
    header[at++] = static_cast<guint8> (size >> 8);
    header[at++] = static_cast<guint8> (size);
  } else {
    header[at++] = mask_bit | 127;
    for (int shift = 56; shift >= 0; shift -= 8)
      header[at++] = static_cast<guint8> (static_cast<guint64> (size) >> shift);
  }
  if (key) {
    memcpy (header + at, key, 4);
    at += 4;
  }

  /* Appended, not resized: a resize would zero the payload's bytes first. */
  out->insert (out->end (), header, header + at);
  const gsize start = out->size ();
  if (size > 0) {
    out->insert (out->end (), payload, payload + size);
    if (key)
      apply_mask (out->data () + start, size, key);
  }
}

}  // namespace

void
ws_encode_client_frame (WsOpcode opcode, const guint8 * payload, gsize size, guint32 mask,
    std::vector<guint8> * out)
{
  const guint8 key[4] = { static_cast<guint8> (mask >> 24), static_cast<guint8> (mask >> 16),
    static_cast<guint8> (mask >> 8), static_cast<guint8> (mask) };
  encode_frame (opcode, payload, size, key, out);
}

void
ws_encode_server_frame (WsOpcode opcode, const guint8 * payload, gsize size,
    std::vector<guint8> * out)
{
  encode_frame (opcode, payload, size, nullptr, out);
}

std::string
ws_close_payload (guint16 code, const std::string & reason)
{
  std::string payload;
  payload += static_cast<char> (code >> 8);
  payload += static_cast<char> (code & 0xff);
  /* A control frame carries at most 125 bytes; cut on a character boundary. */
  std::string text = reason.substr (0, kMaxControlPayload - 2);
  const gchar *end = nullptr;
  g_utf8_validate (text.data (), text.size (), &end);
  payload.append (text.data (), end - text.data ());
  return payload;
}

std::string
ws_accept_for_key (const std::string & key)
{
  std::string input = key + kAcceptGuid;
  guint8 digest[20];
  gsize digest_len = sizeof (digest);
  GChecksum *sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, reinterpret_cast<const guchar *> (input.data ()), input.size ());
  g_checksum_get_digest (sha1, digest, &digest_len);
  g_checksum_free (sha1);
  gchar *encoded = g_base64_encode (digest, digest_len);
  std::string accept (encoded);
  g_free (encoded);
  return accept;
}

WsFrameReader::WsFrameReader (guint64 max_message_size, Sender sender)
  : max_message_size_ (max_message_size), sender_ (sender)
{
}

guint8 *
WsFrameReader::space (gsize size)
{
  /* The frames handed out are gone: move what is left to the front. */
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (capacity_ - end_ < size && start_ > 0) {
    memmove (data_.get (), data_.get () + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (capacity_ - end_ < size) {
    gsize capacity = MAX (capacity_ * 2, end_ + size);
    std::unique_ptr<guint8[]> grown (new guint8[capacity]);
    if (end_ > start_)
      memcpy (grown.get (), data_.get () + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
    data_ = std::move (grown);
    capacity_ = capacity;
  }
  return data_.get () + end_;
}

void
WsFrameReader::commit (gsize count)
{
  end_ = MIN (end_ + count, capacity_);
}

WsFrameReader::Frame
WsFrameReader::fail (guint16 code, const std::string & error)
{
  failed_ = true;
  Frame frame;
  frame.kind = Kind::kError;
  frame.close_code = code;
  frame.error = error;
  return frame;
}

WsFrameReader::Frame
WsFrameReader::next ()
{
  for (;;) {
    if (failed_)
      return fail (kWsCloseProtocolError, "the stream already failed");
    guint8 *p = data_.get () + start_;
    const gsize avail = end_ - start_;
    if (avail < 2)
      return {};
    const bool fin = p[0] & 0x80;
    const guint8 opcode = p[0] & 0x0f;
    const bool masked = p[1] & 0x80;
    gsize at = 2;
    guint64 length = p[1] & 0x7f;
    if (length == 126) {
      if (avail < 4)
        return {};
      length = (static_cast<guint64> (p[2]) << 8) | p[3];
      at = 4;
    } else if (length == 127) {
      if (avail < 10)
        return {};
      length = 0;
      for (int i = 2; i < 10; i++)
        length = (length << 8) | p[i];
      at = 10;
      if (length >> 63)
        return fail (kWsCloseProtocolError, "a frame length with the top bit set");
    }
    if (p[0] & 0x70)
      return fail (kWsCloseProtocolError, "reserved bits set (no extension was agreed)");
    if (masked && sender_ == Sender::kServer)
      return fail (kWsCloseProtocolError, "the server masked a frame");
    if (!masked && sender_ == Sender::kClient)
      return fail (kWsCloseProtocolError, "the client sent an unmasked frame");
    const bool control = opcode & 0x08;
    if (control && (!fin || length > kMaxControlPayload))
      return fail (kWsCloseProtocolError, "a fragmented or oversized control frame");
    if (!control && opcode != 0x0 && opcode != 0x1 && opcode != 0x2)
      return fail (kWsCloseProtocolError, "unknown data opcode " + std::to_string (opcode));
    if (control && opcode != 0x8 && opcode != 0x9 && opcode != 0xA)
      return fail (kWsCloseProtocolError, "unknown control opcode " + std::to_string (opcode));
    const guint64 message_size = (opcode == 0x0 ? message_.size () : 0) + length;
    if (!control && message_size > max_message_size_)
      return fail (kWsCloseTooBig, "a message of more than "
          + std::to_string (max_message_size_) + " bytes");
    guint8 key[4];
    if (masked) {
      if (avail - at < 4)
        return {};
      memcpy (key, p + at, 4);
      at += 4;
    }
    if (avail - at < length)
      return {};
    /* Unmasked in place, once: the frame is consumed right here. */
    if (masked)
      apply_mask (p + at, length, key);

    const char *payload = reinterpret_cast<const char *> (p + at);
    start_ += at + length;

    Frame frame;
    if (control) {
      switch (static_cast<WsOpcode> (opcode)) {
        case WsOpcode::kPing:
          frame.kind = Kind::kPing;
          frame.data = payload;
          frame.size = length;
          return frame;
        case WsOpcode::kPong:
          frame.kind = Kind::kPong;
          return frame;
        default:
          break;
      }
      frame.kind = Kind::kClose;
      if (length == 1)
        return fail (kWsCloseProtocolError, "a close frame with half a code");
      if (length >= 2) {
        frame.close_code = static_cast<guint16> ((static_cast<guint8> (payload[0]) << 8)
            | static_cast<guint8> (payload[1]));
        if (!g_utf8_validate (payload + 2, length - 2, nullptr))
          return fail (kWsCloseBadData, "a close reason that is not UTF-8");
        frame.close_reason.assign (payload + 2, length - 2);
      }
      return frame;
    }

    if (opcode == 0x0 && !in_message_)
      return fail (kWsCloseProtocolError, "a continuation frame without a message");
    if (opcode != 0x0 && in_message_)
      return fail (kWsCloseProtocolError, "a new message inside a fragmented one");

    if (fin && !in_message_) {
      /* The common case: one frame, one message, no copy. */
      frame.kind = opcode == 0x1 ? Kind::kText : Kind::kBinary;
      frame.data = payload;
      frame.size = length;
    } else {
      if (!in_message_) {
        in_message_ = true;
        message_opcode_ = static_cast<WsOpcode> (opcode);
        message_.clear ();
      }
      message_.insert (message_.end (), p + at, p + at + length);
      if (!fin)
        continue;
      in_message_ = false;
      frame.kind = message_opcode_ == WsOpcode::kText ? Kind::kText : Kind::kBinary;
      frame.data = reinterpret_cast<const char *> (message_.data ());
      frame.size = message_.size ();
    }
    if (frame.kind == Kind::kText && !g_utf8_validate (frame.data, frame.size, nullptr))
      return fail (kWsCloseBadData, "a text message that is not UTF-8");
    return frame;
  }
}

}  // namespace voxbridge::realtime
