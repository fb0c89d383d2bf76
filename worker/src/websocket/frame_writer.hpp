// Serializing frames (RFC 6455 5.2). A server's frames are unmasked; a
// client's carry a mask key (the tests use that side to write what a client
// sends). Lengths are always in their minimal form.
//
//   std::string bytes = encode_frame(Opcode::kText, "hi");        // 81 02 68 69
//   std::string bye = encode_close(1000, "done");
//   std::string msg = encode_message(WsEvent::kText, text, deflater);  // RSV1 when compressed
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "websocket/frame.hpp"

namespace greenfork::worker::websocket {

class MessageDeflater;

struct FrameFlags {
  bool fin = true;
  bool rsv1 = false;
  std::optional<uint32_t> mask_key;  // set: a client's frame, payload masked
};

// Appends one frame to `out`.
void append_frame(std::string& out, Opcode opcode, std::string_view payload, const FrameFlags& flags = {});

inline std::string encode_frame(Opcode opcode, std::string_view payload, const FrameFlags& flags = {}) {
  std::string out;
  append_frame(out, opcode, payload, flags);
  return out;
}

// A close frame: the code (big-endian) and the reason, cut to the 123 bytes
// a control frame leaves it, on a UTF-8 character boundary. code 1005 (or
// 0) means an empty payload, as RFC 6455 7.1.5 reads a close without code.
std::string encode_close(uint16_t code, std::string_view reason = {}, const FrameFlags& flags = {});

// Ping/pong: the payload is cut to 125 bytes.
std::string encode_ping(std::string_view payload, const FrameFlags& flags = {});
std::string encode_pong(std::string_view payload, const FrameFlags& flags = {});

// One whole message as one frame: text or binary, compressed with RSV1 set
// when a deflater is given (permessage-deflate negotiated).
std::string encode_message(bool text, std::string_view message, MessageDeflater* deflater = nullptr,
                           const FrameFlags& flags = {});

}  // namespace greenfork::worker::websocket
