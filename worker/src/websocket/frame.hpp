// WebSocket (RFC 6455) frame vocabulary shared by the parser, the message
// assembler and the writer: opcodes, close codes, and the error a protocol
// violation turns into (the close code the connection is failed with).
//
//   if (!close_code_valid_on_wire(1005)) ...   // true only for codes a peer may send
#pragma once

#include <cstdint>
#include <string>

namespace greenfork::worker::websocket {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

constexpr bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

// Close codes (RFC 6455 7.4.1, IANA registry) that greenfork sends or checks.
namespace close_code {
constexpr uint16_t kNormal = 1000;
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kUnsupportedData = 1003;
constexpr uint16_t kNoStatus = 1005;        // never on the wire: "close frame had no code"
constexpr uint16_t kAbnormal = 1006;        // never on the wire: "no close frame at all"
constexpr uint16_t kInvalidPayload = 1007;  // text not UTF-8, undecodable compressed data
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kMessageTooBig = 1009;
constexpr uint16_t kMandatoryExtension = 1010;
constexpr uint16_t kInternalError = 1011;
constexpr uint16_t kTlsHandshake = 1015;    // never on the wire
}  // namespace close_code

// Whether a peer may put `code` in a close frame (RFC 6455 7.4): 1000-1003,
// 1007-1011 (1004 is reserved; 1005, 1006 and 1015 are never sent), the
// later IANA registrations 1012-1014, and 3000-4999 (registered and private
// use). Everything below 1000, 1016-2999 and from 5000 on is refused.
bool close_code_valid_on_wire(uint16_t code);

// Why the connection is failed: the close code to send (1002, 1007, 1009...)
// and a short reason for the log and the close frame. code 0 means no error.
struct ProtocolError {
  uint16_t code = 0;
  std::string reason;
  explicit operator bool() const { return code != 0; }
};

}  // namespace greenfork::worker::websocket
