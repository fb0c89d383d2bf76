#include "websocket/frame_writer.hpp"

#include "websocket/permessage_deflate.hpp"

namespace greenfork::worker::websocket {

void append_frame(std::string& out, Opcode opcode, std::string_view payload, const FrameFlags& flags) {
  const uint64_t n = payload.size();
  out.push_back(static_cast<char>((flags.fin ? 0x80 : 0) | (flags.rsv1 ? 0x40 : 0) |
                                  static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = flags.mask_key ? 0x80 : 0;
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  if (!flags.mask_key) {
    out.append(payload);
    return;
  }
  const uint32_t k = *flags.mask_key;
  const unsigned char key[4] = {static_cast<unsigned char>(k >> 24), static_cast<unsigned char>(k >> 16),
                                static_cast<unsigned char>(k >> 8), static_cast<unsigned char>(k)};
  out.append(reinterpret_cast<const char*>(key), 4);
  const size_t at = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) {
    out[at + i] = static_cast<char>(static_cast<unsigned char>(out[at + i]) ^ key[i & 3]);
  }
}

std::string encode_close(uint16_t code, std::string_view reason, const FrameFlags& flags) {
  if (code == 0 || code == close_code::kNoStatus) return encode_frame(Opcode::kClose, {}, flags);
  if (reason.size() > 123) {
    size_t cut = 123;
    // Back off continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return encode_frame(Opcode::kClose, payload, flags);
}

std::string encode_ping(std::string_view payload, const FrameFlags& flags) {
  return encode_frame(Opcode::kPing, payload.substr(0, 125), flags);
}

std::string encode_pong(std::string_view payload, const FrameFlags& flags) {
  return encode_frame(Opcode::kPong, payload.substr(0, 125), flags);
}

std::string encode_message(bool text, std::string_view message, MessageDeflater* deflater,
                           const FrameFlags& flags) {
  const Opcode op = text ? Opcode::kText : Opcode::kBinary;
  if (deflater == nullptr) return encode_frame(op, message, flags);
  FrameFlags compressed = flags;
  compressed.rsv1 = true;
  return encode_frame(op, deflater->deflate(message), compressed);
}

}  // namespace greenfork::worker::websocket
