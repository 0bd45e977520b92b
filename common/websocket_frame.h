#pragma once
/* RFC 6455 framing for both sides of a WebSocket: a client's frames are
 * masked, a server's are not. Pure byte work, no I/O, so it is tested on its
 * own (tests/realtime/test_websocket_frame.cpp). Used by the connection of
 * both ends (websocket_connection.h). */

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

namespace voxbridge::realtime {

enum class WsOpcode : guint8 {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

/* Close codes of RFC 6455 section 7.4.1 that this side sends. */
constexpr guint16 kWsCloseNormal = 1000;
constexpr guint16 kWsCloseGoingAway = 1001;
constexpr guint16 kWsCloseProtocolError = 1002;
constexpr guint16 kWsCloseBadData = 1007;
constexpr guint16 kWsCloseTooBig = 1009;
/* Reported, never sent: the connection ended without a close frame. */
constexpr guint16 kWsCloseAbnormal = 1006;

/* Appends one complete, masked client frame to @out. */
void ws_encode_client_frame (WsOpcode opcode, const guint8 * payload, gsize size,
    guint32 mask, std::vector<guint8> * out);
/* Appends one complete server frame (not masked) to @out. */
void ws_encode_server_frame (WsOpcode opcode, const guint8 * payload, gsize size,
    std::vector<guint8> * out);
/* The payload of a close frame: the code, then the reason. */
std::string ws_close_payload (guint16 code, const std::string & reason);

/* The Sec-WebSocket-Accept a server must answer to @key. */
std::string ws_accept_for_key (const std::string & key);

/* Reads the peer's frames from a byte stream, reassembling fragmented
 * messages. Bytes are read straight into its buffer (space + commit), and
 * an unfragmented message is handed out without a copy (a client's frame is
 * unmasked in place). */
class WsFrameReader {
 public:
  /* Whose frames are read: a server's must not be masked, a client's must
   * be (RFC 6455 5.1: either mistake fails the connection with 1002). */
  enum class Sender { kServer, kClient };
  enum class Kind {
    kNeedMore,    /* no complete frame buffered */
    kText,        /* a whole text message: data/size */
    kBinary,      /* a whole binary message: data/size */
    kPing,        /* data/size: the payload to echo in the pong */
    kPong,
    kClose,       /* close_code (0: none given), close_reason */
    kError,       /* a protocol violation: error, close_code to send */
  };
  struct Frame {
    Kind kind = Kind::kNeedMore;
    const char *data = nullptr; /* valid until the next call of any method */
    gsize size = 0;
    guint16 close_code = 0;
    std::string close_reason;
    std::string error;
  };

  explicit WsFrameReader (guint64 max_message_size, Sender sender = Sender::kServer);
  void set_max_message_size (guint64 size) { max_message_size_ = size; }
  /* Room for @size more bytes at the end of the buffer. */
  guint8 *space (gsize size);
  /* @count bytes were written into the space last asked for. */
  void commit (gsize count);
  /* The next complete frame or message, or kNeedMore. After kError the
   * stream is unusable. */
  Frame next ();
  gsize buffered () const { return end_ - start_; }

 private:
  Frame fail (guint16 code, const std::string & error);

  guint64 max_message_size_;
  Sender sender_;
  /* Bytes [start_, end_) of data_ are received and not yet parsed. Not a
   * std::vector: growing one zero-fills the read space on every read. */
  std::unique_ptr<guint8[]> data_;
  gsize capacity_ = 0;
  gsize start_ = 0;
  gsize end_ = 0;
  bool failed_ = false;
  /* A fragmented message being assembled. */
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kText;
  std::vector<guint8> message_;
};

}  // namespace voxbridge::realtime
