/* RFC 6455 framing: what a client and a server send, every shape of server
 * frame, and client frames as a server reads them (masked, unmasked in place). */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "input_mutation.h"
#include "websocket_frame.h"

using namespace voxbridge::realtime;
using Kind = WsFrameReader::Kind;

namespace {

/* A server frame (never masked). */
std::string
server_frame (guint8 first_byte, const std::string & payload)
{
  std::string f;
  f += static_cast<char> (first_byte);
  if (payload.size () < 126) {
    f += static_cast<char> (payload.size ());
  } else if (payload.size () <= 0xffff) {
    f += static_cast<char> (126);
    f += static_cast<char> (payload.size () >> 8);
    f += static_cast<char> (payload.size () & 0xff);
  } else {
    f += static_cast<char> (127);
    for (int shift = 56; shift >= 0; shift -= 8)
      f += static_cast<char> ((static_cast<guint64> (payload.size ()) >> shift) & 0xff);
  }
  return f + payload;
}

void
feed (WsFrameReader & reader, const std::string & bytes)
{
  memcpy (reader.space (bytes.size ()), bytes.data (), bytes.size ());
  reader.commit (bytes.size ());
}

/* A client frame (always masked) made by the encoder under test. */
std::string
client_frame (WsOpcode opcode, const std::string & payload, guint32 mask = 0xa1b2c3d4)
{
  std::vector<guint8> out;
  ws_encode_client_frame (opcode, reinterpret_cast<const guint8 *> (payload.data ()),
      payload.size (), mask, &out);
  return std::string (out.begin (), out.end ());
}

/* A client frame with @first_byte as given (FIN, RSV, opcode), masked. */
std::string
raw_client_frame (guint8 first_byte, const std::string & payload, guint32 mask = 0x01020304)
{
  std::string f = client_frame (WsOpcode::kText, payload, mask);
  f[0] = static_cast<char> (first_byte);
  return f;
}

std::string
text_of (const WsFrameReader::Frame & f)
{
  return std::string (f.data, f.size);
}

}  // namespace

TEST (WsEncode, ClientFramesAreMaskedWithTheRightLengthForm)
{
  for (gsize size : { gsize (0), gsize (5), gsize (125), gsize (126), gsize (65535),
           gsize (65536), gsize (70000) }) {
    std::string payload (size, 'x');
    for (gsize i = 0; i < size; i++)
      payload[i] = static_cast<char> ('a' + i % 26);
    std::vector<guint8> out;
    ws_encode_client_frame (WsOpcode::kText, reinterpret_cast<const guint8 *> (payload.data ()),
        size, 0x12345678, &out);
    ASSERT_GE (out.size (), 6u);
    EXPECT_EQ (out[0], 0x81);
    EXPECT_TRUE (out[1] & 0x80) << "client frames must be masked";
    gsize at = 2;
    guint64 length = out[1] & 0x7f;
    if (size < 126) {
      EXPECT_EQ (length, size);
    } else if (size <= 65535) {
      EXPECT_EQ (length, 126u);
      length = (out[2] << 8) | out[3];
      at = 4;
    } else {
      EXPECT_EQ (length, 127u);
      length = 0;
      for (int i = 2; i < 10; i++)
        length = (length << 8) | out[i];
      at = 10;
    }
    ASSERT_EQ (length, size);
    const guint8 key[4] = { 0x12, 0x34, 0x56, 0x78 };
    EXPECT_EQ (0, memcmp (out.data () + at, key, 4));
    at += 4;
    ASSERT_EQ (out.size (), at + size);
    for (gsize i = 0; i < size; i++)
      ASSERT_EQ (out[at + i] ^ key[i % 4], static_cast<guint8> (payload[i])) << "byte " << i;
  }
}

TEST (WsEncode, ServerFramesAreUnmaskedWithTheRightLengthForm)
{
  for (gsize size : { gsize (0), gsize (5), gsize (125), gsize (126), gsize (65535),
           gsize (65536), gsize (70000) }) {
    std::string payload (size, 'x');
    for (gsize i = 0; i < size; i++)
      payload[i] = static_cast<char> ('a' + i % 26);
    std::vector<guint8> out;
    ws_encode_server_frame (WsOpcode::kText, reinterpret_cast<const guint8 *> (payload.data ()),
        size, &out);
    /* Byte for byte what the test's own server encoder makes. */
    EXPECT_EQ (std::string (out.begin (), out.end ()), server_frame (0x81, payload)) << size;
    EXPECT_FALSE (out[1] & 0x80) << "server frames must not be masked";
  }
  std::vector<guint8> out;
  ws_encode_server_frame (WsOpcode::kClose, nullptr, 0, &out);
  EXPECT_EQ (std::string (out.begin (), out.end ()), std::string ("\x88\x00", 2));
}

TEST (WsEncode, ServerFramesReadBackByAClient)
{
  std::vector<guint8> out;
  std::string large (70000, 'L');
  ws_encode_server_frame (WsOpcode::kText, reinterpret_cast<const guint8 *> ("hi"), 2, &out);
  ws_encode_server_frame (WsOpcode::kPing, reinterpret_cast<const guint8 *> ("p"), 1, &out);
  ws_encode_server_frame (WsOpcode::kBinary,
      reinterpret_cast<const guint8 *> (large.data ()), large.size (), &out);
  WsFrameReader reader (1 << 20);
  feed (reader, std::string (out.begin (), out.end ()));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), "hi");
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kPing);
  EXPECT_EQ (text_of (f), "p");
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kBinary);
  EXPECT_EQ (text_of (f), large);
}

TEST (WsEncode, AcceptKeyOfRfc6455Example)
{
  /* RFC 6455 section 1.3. */
  EXPECT_EQ (ws_accept_for_key ("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST (WsEncode, ClosePayloadHasTheCodeAndAShortenedReason)
{
  std::string p = ws_close_payload (1000, "bye");
  ASSERT_EQ (p.size (), 5u);
  EXPECT_EQ (static_cast<guint8> (p[0]), 0x03);
  EXPECT_EQ (static_cast<guint8> (p[1]), 0xe8);
  EXPECT_EQ (p.substr (2), "bye");
  /* 200 two-byte characters: cut to at most 123 bytes, on a boundary. */
  std::string long_reason;
  for (int i = 0; i < 200; i++)
    long_reason += "\xc3\xa9";
  p = ws_close_payload (1001, long_reason);
  EXPECT_LE (p.size (), 125u);
  EXPECT_TRUE (g_utf8_validate (p.data () + 2, p.size () - 2, nullptr));
}

TEST (WsFrameReader, MessagesOfEveryLengthFormArriveWhole)
{
  WsFrameReader reader (1 << 20);
  std::string small = "{\"type\":\"x\"}", medium (300, 'm'), large (70000, 'L');
  feed (reader, server_frame (0x81, small) + server_frame (0x81, medium)
      + server_frame (0x82, large));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), small);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), medium);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kBinary);
  EXPECT_EQ (f.size, large.size ());
  EXPECT_EQ (reader.next ().kind, Kind::kNeedMore);
}

TEST (WsFrameReader, ByteByByteArrivalGivesTheSameMessages)
{
  WsFrameReader reader (1 << 20);
  std::string stream = server_frame (0x81, "hello") + server_frame (0x89, "pp")
      + server_frame (0x81, std::string (200, 'z'));
  std::vector<std::string> got;
  for (char c : stream) {
    feed (reader, std::string (1, c));
    for (auto f = reader.next (); f.kind != Kind::kNeedMore; f = reader.next ())
      got.push_back (std::to_string (static_cast<int> (f.kind)) + ":" + text_of (f));
  }
  ASSERT_EQ (got.size (), 3u);
  EXPECT_EQ (got[0], std::to_string (static_cast<int> (Kind::kText)) + ":hello");
  EXPECT_EQ (got[1], std::to_string (static_cast<int> (Kind::kPing)) + ":pp");
  EXPECT_EQ (got[2].size (), 202u);
}

TEST (WsFrameReader, FragmentsAreJoinedAndControlFramesMayInterleave)
{
  WsFrameReader reader (1 << 20);
  feed (reader, server_frame (0x01, "{\"a\":") + server_frame (0x89, "")
      + server_frame (0x00, "1") + server_frame (0x80, "}"));
  auto f = reader.next ();
  EXPECT_EQ (f.kind, Kind::kPing);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), "{\"a\":1}");
}

TEST (WsFrameReader, CloseFrameGivesCodeAndReason)
{
  WsFrameReader reader (1024);
  feed (reader, server_frame (0x88, std::string ("\x03\xf3", 2) + "going away"));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kClose);
  EXPECT_EQ (f.close_code, 1011);
  EXPECT_EQ (f.close_reason, "going away");

  WsFrameReader empty (1024);
  feed (empty, server_frame (0x88, ""));
  f = empty.next ();
  ASSERT_EQ (f.kind, Kind::kClose);
  EXPECT_EQ (f.close_code, 0);
}

TEST (WsFrameReader, ProtocolViolationsAreErrorsWithTheCodeToSend)
{
  struct Case {
    const char *what;
    std::string bytes;
    guint16 code;
  } cases[] = {
    { "masked server frame", std::string ("\x81\x85" "abcd" "hello", 11), kWsCloseProtocolError },
    { "reserved bit", server_frame (0xc1, "x"), kWsCloseProtocolError },
    { "unknown data opcode", server_frame (0x83, "x"), kWsCloseProtocolError },
    { "unknown control opcode", server_frame (0x8b, ""), kWsCloseProtocolError },
    { "fragmented ping", server_frame (0x09, ""), kWsCloseProtocolError },
    { "oversized ping", server_frame (0x89, std::string (126, 'p')), kWsCloseProtocolError },
    { "continuation first", server_frame (0x80, "x"), kWsCloseProtocolError },
    { "new message inside one", server_frame (0x01, "a") + server_frame (0x81, "b"),
      kWsCloseProtocolError },
    { "half a close code", server_frame (0x88, "\x03"), kWsCloseProtocolError },
    { "text not UTF-8", server_frame (0x81, "\xff\xfe"), kWsCloseBadData },
    { "too big", server_frame (0x81, std::string (2000, 'b')), kWsCloseTooBig },
    { "length top bit", std::string ("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10),
      kWsCloseProtocolError },
  };
  for (const auto & c : cases) {
    WsFrameReader reader (1024);
    feed (reader, c.bytes);
    WsFrameReader::Frame f = reader.next ();
    while (f.kind != Kind::kError && f.kind != Kind::kNeedMore)
      f = reader.next ();
    ASSERT_EQ (f.kind, Kind::kError) << c.what;
    EXPECT_EQ (f.close_code, c.code) << c.what;
    EXPECT_FALSE (f.error.empty ()) << c.what;
  }
}

TEST (WsFrameReader, TooBigIsRefusedBeforeThePayloadArrives)
{
  WsFrameReader reader (1000);
  /* Only the header of a 1 GiB frame: refused at once, nothing buffered for it. */
  feed (reader, std::string ("\x81\x7f\x00\x00\x00\x00\x40\x00\x00\x00", 10));
  EXPECT_EQ (reader.next ().kind, Kind::kError);
}

TEST (WsFrameReader, MutatedStreamsNeverCrash)
{
  std::string valid = server_frame (0x81, "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"}")
      + server_frame (0x01, "{\"a\"") + server_frame (0x89, "p") + server_frame (0x80, ":1}")
      + server_frame (0x88, std::string ("\x03\xe8", 2) + "bye");
  voxbridge::test::InputMutator mutator (20261206);
  size_t messages = 0, errors = 0;
  for (const auto & m : mutator.mutate (valid)) {
    WsFrameReader reader (4096);
    feed (reader, m.text);
    for (int i = 0; i < 100; i++) {
      auto f = reader.next ();
      if (f.kind == Kind::kNeedMore)
        break;
      if (f.kind == Kind::kError) {
        errors++;
        break;
      }
      if (f.kind == Kind::kText) {
        EXPECT_TRUE (g_utf8_validate (f.data, f.size, nullptr)) << m.kind;
      }
      messages++;
    }
  }
  /* Both outcomes happen: the mutants are not all rejected up front. */
  EXPECT_GT (messages, 0u);
  EXPECT_GT (errors, 0u);
}

/* ---- a server reading client frames ---- */

TEST (WsFrameReaderOfClient, MaskedMessagesOfEveryLengthFormArriveUnmasked)
{
  WsFrameReader reader (1 << 20, WsFrameReader::Sender::kClient);
  std::string small = "{\"type\":\"input_audio_buffer.append\"}", medium (300, 'm'),
      large (70000, 'L');
  for (gsize i = 0; i < large.size (); i++)
    large[i] = static_cast<char> ('A' + i % 23);
  feed (reader, client_frame (WsOpcode::kText, small) + client_frame (WsOpcode::kText, medium, 0)
      + client_frame (WsOpcode::kBinary, large, 0xdeadbeef)
      + client_frame (WsOpcode::kText, ""));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), small);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), medium);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kBinary);
  EXPECT_EQ (text_of (f), large);
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (f.size, 0u);
  EXPECT_EQ (reader.next ().kind, Kind::kNeedMore);
}

TEST (WsFrameReaderOfClient, ByteByByteArrivalGivesTheSameMessages)
{
  WsFrameReader reader (1 << 20, WsFrameReader::Sender::kClient);
  std::string stream = client_frame (WsOpcode::kText, "hello")
      + client_frame (WsOpcode::kPing, "pp") + client_frame (WsOpcode::kText, std::string (200, 'z'))
      + client_frame (WsOpcode::kText, std::string (70000, 'y'));
  std::vector<std::string> got;
  for (char c : stream) {
    feed (reader, std::string (1, c));
    for (auto f = reader.next (); f.kind != Kind::kNeedMore; f = reader.next ())
      got.push_back (std::to_string (static_cast<int> (f.kind)) + ":" + text_of (f));
  }
  ASSERT_EQ (got.size (), 4u);
  EXPECT_EQ (got[0], std::to_string (static_cast<int> (Kind::kText)) + ":hello");
  EXPECT_EQ (got[1], std::to_string (static_cast<int> (Kind::kPing)) + ":pp");
  EXPECT_EQ (got[2], std::to_string (static_cast<int> (Kind::kText)) + ":" + std::string (200, 'z'));
  EXPECT_EQ (got[3], std::to_string (static_cast<int> (Kind::kText)) + ":" + std::string (70000, 'y'));
}

TEST (WsFrameReaderOfClient, FragmentsAreUnmaskedAndJoined)
{
  WsFrameReader reader (1 << 20, WsFrameReader::Sender::kClient);
  /* Each fragment with a mask of its own. */
  feed (reader, raw_client_frame (0x01, "{\"a\":", 0x11111111)
      + raw_client_frame (0x89, "ping", 0x22222222) + raw_client_frame (0x00, "1", 0x33333333)
      + raw_client_frame (0x80, "}", 0x44444444));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kPing);
  EXPECT_EQ (text_of (f), "ping");
  f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kText);
  EXPECT_EQ (text_of (f), "{\"a\":1}");
}

TEST (WsFrameReaderOfClient, CloseFrameGivesCodeAndReasonUnmasked)
{
  WsFrameReader reader (1024, WsFrameReader::Sender::kClient);
  feed (reader, client_frame (WsOpcode::kClose, ws_close_payload (1000, "bye")));
  auto f = reader.next ();
  ASSERT_EQ (f.kind, Kind::kClose);
  EXPECT_EQ (f.close_code, 1000);
  EXPECT_EQ (f.close_reason, "bye");
}

TEST (WsFrameReaderOfClient, UnmaskedFramesAndViolationsAreErrors)
{
  struct Case {
    const char *what;
    std::string bytes;
    guint16 code;
  } cases[] = {
    { "unmasked text", server_frame (0x81, "hello"), kWsCloseProtocolError },
    { "unmasked close", server_frame (0x88, ""), kWsCloseProtocolError },
    { "unmasked after a masked one", client_frame (WsOpcode::kText, "ok")
      + server_frame (0x81, "x"), kWsCloseProtocolError },
    { "reserved bit", raw_client_frame (0xc1, "x"), kWsCloseProtocolError },
    { "unknown data opcode", raw_client_frame (0x83, "x"), kWsCloseProtocolError },
    { "oversized ping", raw_client_frame (0x89, std::string (126, 'p')), kWsCloseProtocolError },
    { "continuation first", raw_client_frame (0x80, "x"), kWsCloseProtocolError },
    { "text not UTF-8", client_frame (WsOpcode::kText, "\xff\xfe"), kWsCloseBadData },
    { "too big", client_frame (WsOpcode::kText, std::string (2000, 'b')), kWsCloseTooBig },
  };
  for (const auto & c : cases) {
    WsFrameReader reader (1024, WsFrameReader::Sender::kClient);
    feed (reader, c.bytes);
    WsFrameReader::Frame f = reader.next ();
    while (f.kind != Kind::kError && f.kind != Kind::kNeedMore)
      f = reader.next ();
    ASSERT_EQ (f.kind, Kind::kError) << c.what;
    EXPECT_EQ (f.close_code, c.code) << c.what;
    EXPECT_FALSE (f.error.empty ()) << c.what;
  }
}

TEST (WsFrameReaderOfClient, TooBigIsRefusedBeforeTheMaskAndPayloadArrive)
{
  WsFrameReader reader (1000, WsFrameReader::Sender::kClient);
  feed (reader, std::string ("\x81\xff\x00\x00\x00\x00\x40\x00\x00\x00", 10));
  EXPECT_EQ (reader.next ().kind, Kind::kError);
}

TEST (WsFrameReaderOfClient, MaxMessageSizeCanBeRaised)
{
  WsFrameReader reader (100, WsFrameReader::Sender::kClient);
  reader.set_max_message_size (5000);
  feed (reader, client_frame (WsOpcode::kText, std::string (2000, 'b')));
  EXPECT_EQ (reader.next ().kind, Kind::kText);
}

TEST (WsFrameReaderOfClient, MutatedStreamsNeverCrash)
{
  std::string valid = client_frame (WsOpcode::kText,
          "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAAA\"}")
      + raw_client_frame (0x01, "{\"a\"") + client_frame (WsOpcode::kPing, "p")
      + raw_client_frame (0x80, ":1}") + client_frame (WsOpcode::kClose, ws_close_payload (1000, "bye"));
  voxbridge::test::InputMutator mutator (20261207);
  size_t messages = 0, errors = 0;
  for (const auto & m : mutator.mutate (valid)) {
    WsFrameReader reader (4096, WsFrameReader::Sender::kClient);
    feed (reader, m.text);
    for (int i = 0; i < 100; i++) {
      auto f = reader.next ();
      if (f.kind == Kind::kNeedMore)
        break;
      if (f.kind == Kind::kError) {
        errors++;
        break;
      }
      if (f.kind == Kind::kText) {
        EXPECT_TRUE (g_utf8_validate (f.data, f.size, nullptr)) << m.kind;
      }
      messages++;
    }
  }
  EXPECT_GT (messages, 0u);
  EXPECT_GT (errors, 0u);
}
