// FrameParser: RFC 6455 section 5 framing with no I/O. Bytes in, in any
// split; frame headers and unmasked payload bytes out to a FrameSink. It
// enforces the rules one frame can break by itself; the rules that span
// frames (fragmentation, message size, UTF-8, close payloads) belong to the
// MessageAssembler, which is the sink gworker uses.
//
// Refused with 1002 (protocol error), once the frame's whole header is in
// (so the verdict never depends on how the bytes were split):
//   - RSV2 or RSV3 set; RSV1 set unless an extension negotiated it
//     (permessage-deflate), and then only on a text/binary frame;
//   - a reserved opcode (0x3-0x7, 0xB-0xF);
//   - a control frame (close, ping, pong) with FIN clear or more than 125
//     bytes of payload;
//   - an unmasked frame from a client (Role::kServer parses client frames),
//     or a masked one from a server (Role::kClient);
//   - a length not in its minimal form (126 followed by < 126, 127 followed
//     by <= 0xFFFF), or a 64-bit length with its most significant bit set.
//
//   FrameParser parser({.role = Role::kServer});
//   while (!in.empty()) {
//     FrameParser::Result r = parser.feed(in, sink);  // sink gets header, payload, end
//     in.remove_prefix(r.consumed);
//     if (r.status == FrameParser::kError) fail(parser.error());  // close with error().code
//     if (r.status == FrameParser::kNeedMore) break;              // read the socket
//   }                                                            // kFrameEnd: one frame done
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "websocket/frame.hpp"

namespace greenfork::worker::websocket {

struct FrameHeader {
  bool fin = true;
  bool rsv1 = false;  // "compressed" for permessage-deflate
  Opcode opcode = Opcode::kText;
  bool masked = false;
  uint64_t length = 0;
  uint32_t mask_key = 0;  // big-endian as on the wire
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // The frame's header passed the per-frame rules; no payload byte yet.
  virtual ProtocolError on_frame_header(const FrameHeader& header) = 0;
  // Unmasked payload bytes in order, in chunks of any size, never empty.
  virtual ProtocolError on_frame_payload(std::string_view bytes) = 0;
  // The frame's last payload byte was delivered (also for an empty payload).
  virtual ProtocolError on_frame_end() = 0;
};

// Which side's frames are parsed: a server parses a client's (masked) frames.
enum class Role { kServer, kClient };

struct FrameParserOptions {
  Role role = Role::kServer;
  bool rsv1_allowed = false;  // permessage-deflate was negotiated
};

class FrameParser {
 public:
  enum Status { kNeedMore, kFrameEnd, kError };
  struct Result {
    Status status;
    size_t consumed;
  };

  explicit FrameParser(FrameParserOptions options = {}) : options_(options) {}

  // kNeedMore: all of `data` consumed, the frame is not over. kFrameEnd: a
  // frame ended after `consumed` bytes (one frame per call, so the caller can
  // stop after a close frame). kError: error() says why; sticky. A sink's
  // error stops the parser the same way.
  Result feed(std::string_view data, FrameSink& sink);
  const ProtocolError& error() const { return error_; }
  // True between frames (no byte of the next frame consumed yet).
  bool at_frame_boundary() const { return !in_payload_ && header_len_ == 0; }

  static constexpr size_t kMaxHeader = 14;

 private:
  Result fail(ProtocolError e, size_t consumed);
  size_t header_size() const;  // bytes of the current header, once 2 are in
  ProtocolError check_header();

  FrameParserOptions options_;
  ProtocolError error_;
  unsigned char header_bytes_[kMaxHeader] = {};
  size_t header_len_ = 0;
  bool in_payload_ = false;
  FrameHeader header_;
  uint64_t remaining_ = 0;  // payload bytes still to come
  uint64_t offset_ = 0;     // payload bytes seen (selects the mask byte)
  std::string scratch_;     // unmasking buffer
};

}  // namespace greenfork::worker::websocket
