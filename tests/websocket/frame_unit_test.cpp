// The frame layer in code: UTF-8 validation over every code point and cut,
// the frame writer (RFC 6455 5.7's examples, minimal lengths, close reasons
// cut on a character boundary), the parser's client role, and the
// assembler's promises over every two-cut split of a mixed stream.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "assembler_runner.hpp"
#include "websocket/frame_parser.hpp"
#include "websocket/frame_writer.hpp"
#include "websocket/utf8_validator.hpp"

namespace greenfork::test {
namespace {

using namespace greenfork::worker::websocket;

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out += digits[(static_cast<unsigned char>(c) >> 4) & 0xF];
    out += digits[static_cast<unsigned char>(c) & 0xF];
  }
  return out;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

TEST(Utf8Validator, EveryCodePointAndEveryCut) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string s = utf8(cp);
    const bool want = cp < 0xD800 || cp > 0xDFFF;
    ASSERT_EQ(valid_utf8(s), want) << std::hex << cp;
    if (s.size() > 1 && (cp % 997) == 0) {
      for (size_t cut = 1; cut < s.size(); ++cut) {
        Utf8Validator v;
        // A surrogate is refused at its second byte (ED A0..BF), at once.
        const bool prefix_ok = want || cut < 2;
        EXPECT_EQ(v.feed(s.substr(0, cut)) && !v.complete(), prefix_ok) << std::hex << cp;
        EXPECT_EQ(v.feed(s.substr(cut)) && v.complete(), want) << std::hex << cp;
      }
    }
  }
}

TEST(Utf8Validator, RefusesOverlongAndOutOfRange) {
  for (const char* bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
                          "\xF5\x80\x80\x80", "\xFF", "\x80", "\xE2\x82", "\xE2\x28\xA1"}) {
    EXPECT_FALSE(valid_utf8(bad)) << hex(bad);
  }
  Utf8Validator v;
  EXPECT_FALSE(v.feed("ok\xFF"));
  EXPECT_FALSE(v.feed("fine"));  // sticky
}

TEST(FrameWriter, Rfc6455Examples) {
  EXPECT_EQ(hex(encode_frame(Opcode::kText, "Hello")), "810548656c6c6f");
  EXPECT_EQ(hex(encode_frame(Opcode::kText, "Hello", masked(0x37fa213d))), "818537fa213d7f9f4d5158");
  EXPECT_EQ(hex(encode_frame(Opcode::kText, "Hel", unfinished())), "010348656c");
  EXPECT_EQ(hex(encode_frame(Opcode::kContinuation, "lo")), "80026c6f");
  EXPECT_EQ(hex(encode_ping("Hello")), "890548656c6c6f");
  EXPECT_EQ(hex(encode_pong("Hello", masked(0x37fa213d))), "8a8537fa213d7f9f4d5158");
  EXPECT_EQ(hex(encode_frame(Opcode::kBinary, std::string(256, 'x')).substr(0, 4)), "827e0100");
  EXPECT_EQ(hex(encode_frame(Opcode::kBinary, std::string(65536, 'x')).substr(0, 10)),
            "827f0000000000010000");
}

TEST(FrameWriter, MinimalLengthsAtTheBoundaries) {
  const std::pair<size_t, size_t> cases[] = {{125, 2}, {126, 4}, {65535, 4}, {65536, 10}};
  for (auto [n, header] : cases) {
    EXPECT_EQ(encode_frame(Opcode::kBinary, std::string(n, 'a')).size(), n + header) << n;
  }
}

TEST(FrameWriter, CloseFrames) {
  EXPECT_EQ(hex(encode_close(1000)), "880203e8");
  EXPECT_EQ(hex(encode_close(1005)), "8800");
  EXPECT_EQ(hex(encode_close(1001, "bye")), "880503e9627965");
  // 122 ASCII bytes then a 3-byte character: it does not fit in 123 bytes.
  const std::string reason = std::string(122, 'r') + "\xE2\x82\xAC" + "tail";
  const std::string frame = encode_close(1000, reason);
  ASSERT_EQ(frame.size(), 2u + 2 + 122);
  EXPECT_TRUE(valid_utf8(frame.substr(4)));
  EXPECT_EQ(encode_ping(std::string(200, 'p')).size(), 2u + 125);
}

TEST(FrameWriter, RoundTripsThroughTheClientRoleParser) {
  // What a server writes, read as a client reads it (unmasked frames).
  std::string bytes = encode_message(true, "hé") + encode_message(false, std::string(70000, '\x01')) +
                      encode_ping("p") + encode_close(4000, "done");
  AssemblerOptions client;
  client.role = Role::kClient;
  AssemblerOutcome got = run_assembler(bytes, {bytes.size()}, client);
  ASSERT_EQ(got.status, MessageAssembler::kClosed) << got.error_reason;
  ASSERT_EQ(got.events.size(), 4u);
  EXPECT_EQ(got.events[0].data, "hé");
  EXPECT_EQ(got.events[1].data, std::string(70000, '\x01'));
  EXPECT_EQ(got.events[2].kind, WsEvent::kPing);
  EXPECT_EQ(got.events[3].code, 4000);
  EXPECT_EQ(got.events[3].data, "done");
  // A masked frame is a protocol error for a client.
  AssemblerOutcome from_masked = run_assembler(encode_ping("x", masked(1)), {64}, client);
  EXPECT_EQ(from_masked.error_code, close_code::kProtocolError);
}

// A stream with a bit of everything (fragments, interleaved control frames,
// 16-bit lengths, multi-byte UTF-8 across fragments), ending in a close.
std::string mixed_stream() {
  const FrameFlags m = masked(0xA1B2C3D4);
  const FrameFlags more = masked(0x01020304, false);
  std::string s;
  s += encode_frame(Opcode::kText, "x\xE2\x82", more);
  s += encode_ping("ping!", m);
  s += encode_frame(Opcode::kContinuation, "\xAC y", m);
  s += encode_frame(Opcode::kBinary, std::string(300, '\x7F'), m);
  s += encode_frame(Opcode::kBinary, "", more);
  s += encode_pong("", m);
  s += encode_frame(Opcode::kContinuation, "end", m);
  s += encode_close(1000, "ok", m);
  s += "trailing bytes never read";
  return s;
}

TEST(MessageAssembler, EveryTwoCutSplitGivesTheSameOutcome) {
  const std::string bytes = mixed_stream();
  const AssemblerOptions options;
  const AssemblerOutcome whole = run_assembler(bytes, {bytes.size()}, options);
  ASSERT_EQ(whole.status, MessageAssembler::kClosed) << whole.error_reason;
  ASSERT_EQ(whole.events.size(), 6u);
  EXPECT_EQ(whole.events[0].kind, WsEvent::kPing);
  EXPECT_EQ(whole.events[1].data, "x\xE2\x82\xAC y");
  EXPECT_EQ(whole.events[2].data, std::string(300, '\x7F'));
  EXPECT_EQ(whole.events[3].kind, WsEvent::kPong);
  EXPECT_EQ(whole.events[4].data, "end");
  EXPECT_EQ(whole.events[5].kind, WsEvent::kClose);
  EXPECT_EQ(whole.events[5].data, "ok");
  EXPECT_EQ(whole.consumed, bytes.size() - std::string("trailing bytes never read").size());
  for (size_t i = 1; i < bytes.size(); i += 3) {
    for (size_t j = i; j < bytes.size(); j += 5) {
      ASSERT_TRUE(run_assembler(bytes, {i, j - i, bytes.size()}, options) == whole) << i << "," << j;
    }
  }
  EXPECT_TRUE(run_assembler(bytes, std::vector<size_t>(bytes.size(), 1), options) == whole);
}

TEST(MessageAssembler, MaxSizeIsCheckedBeforeBuffering) {
  AssemblerOptions options;
  options.max_message_size = 100;
  MessageAssembler in(options);
  std::vector<WsEvent> events;
  // 60 + 40 bytes fit exactly; only the headers of a third fragment arrive.
  std::string bytes = encode_frame(Opcode::kBinary, std::string(60, 'a'), masked(7, false)) +
                      encode_frame(Opcode::kContinuation, std::string(40, 'b'), masked(7, false));
  EXPECT_EQ(in.feed(bytes, events).status, MessageAssembler::kNeedMore);
  EXPECT_FALSE(in.idle());
  // One more byte is announced: refused at its header, no payload needed.
  const std::string next = encode_frame(Opcode::kContinuation, "c", masked(7)).substr(0, 6);
  EXPECT_EQ(in.feed(next, events).status, MessageAssembler::kError);
  EXPECT_EQ(in.error().code, close_code::kMessageTooBig);
  EXPECT_TRUE(events.empty());
}

TEST(MessageAssembler, IdleBetweenMessagesAndControlFramesDoNotCount) {
  MessageAssembler in;
  std::vector<WsEvent> events;
  EXPECT_TRUE(in.idle());
  in.feed(encode_frame(Opcode::kText, "a", masked(9, false)), events);
  EXPECT_FALSE(in.idle());
  in.feed(encode_ping("", masked(9)), events);
  EXPECT_FALSE(in.idle());
  in.feed(encode_frame(Opcode::kContinuation, "b", masked(9)), events);
  EXPECT_TRUE(in.idle());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "ab");
}

TEST(FrameParser, ReportsHeaderFieldsAndFramesOneAtATime) {
  struct Sink : FrameSink {
    std::vector<FrameHeader> headers;
    std::string payload;
    int ends = 0;
    ProtocolError on_frame_header(const FrameHeader& h) override {
      headers.push_back(h);
      return {};
    }
    ProtocolError on_frame_payload(std::string_view b) override {
      payload.append(b);
      return {};
    }
    ProtocolError on_frame_end() override {
      ++ends;
      return {};
    }
  } sink;
  FrameParser parser;
  const std::string two = encode_frame(Opcode::kBinary, "abc", masked(0x11223344, false)) +
                          encode_frame(Opcode::kContinuation, "de", masked(0x55667788));
  FrameParser::Result r = parser.feed(two, sink);
  EXPECT_EQ(r.status, FrameParser::kFrameEnd);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_TRUE(parser.at_frame_boundary());
  r = parser.feed(std::string_view(two).substr(9), sink);
  EXPECT_EQ(r.status, FrameParser::kFrameEnd);
  ASSERT_EQ(sink.headers.size(), 2u);
  EXPECT_FALSE(sink.headers[0].fin);
  EXPECT_EQ(sink.headers[0].opcode, Opcode::kBinary);
  EXPECT_EQ(sink.headers[0].mask_key, 0x11223344u);
  EXPECT_EQ(sink.headers[1].length, 2u);
  EXPECT_EQ(sink.payload, "abcde");
  EXPECT_EQ(sink.ends, 2);
}

}  // namespace
}  // namespace greenfork::test
