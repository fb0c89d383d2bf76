#include "websocket/frame_parser.hpp"

#include <algorithm>
#include <cstring>

namespace greenfork::worker::websocket {

namespace {

constexpr size_t kChunk = 64 * 1024;  // payload unmasked and delivered per step

bool reserved_opcode(uint8_t op) { return (op >= 0x3 && op <= 0x7) || op >= 0xB; }

// XORs `n` bytes with the mask key, the first byte being payload byte
// `offset`; eight bytes at a time (the key's 4-byte period divides 8).
void unmask(char* p, size_t n, uint32_t mask_key, uint64_t offset) {
  unsigned char pattern[8];
  for (size_t j = 0; j < 8; ++j) {
    pattern[j] = static_cast<unsigned char>(mask_key >> (8 * (3 - ((offset + j) & 3))));
  }
  uint64_t wide;
  std::memcpy(&wide, pattern, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    v ^= wide;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ pattern[i & 7]);
}

ProtocolError protocol_error(std::string reason) {
  return {close_code::kProtocolError, std::move(reason)};
}

}  // namespace

FrameParser::Result FrameParser::fail(ProtocolError e, size_t consumed) {
  error_ = std::move(e);
  return {kError, consumed};
}

size_t FrameParser::header_size() const {
  const uint8_t len7 = header_bytes_[1] & 0x7F;
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const size_t mask = (header_bytes_[1] & 0x80) != 0 ? 4 : 0;
  return 2 + ext + mask;
}

ProtocolError FrameParser::check_header() {
  const uint8_t b0 = header_bytes_[0];
  const uint8_t b1 = header_bytes_[1];
  const uint8_t op = b0 & 0x0F;
  header_.fin = (b0 & 0x80) != 0;
  header_.rsv1 = (b0 & 0x40) != 0;
  header_.opcode = static_cast<Opcode>(op);
  header_.masked = (b1 & 0x80) != 0;
  if ((b0 & 0x30) != 0) return protocol_error("RSV2/RSV3 set without a negotiated extension");
  if (reserved_opcode(op)) return protocol_error("reserved opcode " + std::to_string(op));
  if (header_.rsv1) {
    if (!options_.rsv1_allowed) return protocol_error("RSV1 set without a negotiated extension");
    if (header_.opcode != Opcode::kText && header_.opcode != Opcode::kBinary) {
      return protocol_error("RSV1 set on a control or continuation frame");
    }
  }
  const uint8_t len7 = b1 & 0x7F;
  size_t pos = 2;
  uint64_t length = len7;
  if (len7 == 126) {
    length = (uint64_t{header_bytes_[2]} << 8) | header_bytes_[3];
    pos = 4;
    if (length < 126) return protocol_error("frame length not in its minimal form");
  } else if (len7 == 127) {
    length = 0;
    for (size_t i = 0; i < 8; ++i) length = (length << 8) | header_bytes_[2 + i];
    pos = 10;
    if ((length >> 63) != 0) return protocol_error("64-bit frame length with its high bit set");
    if (length <= 0xFFFF) return protocol_error("frame length not in its minimal form");
  }
  header_.length = length;
  if (is_control(header_.opcode)) {
    if (!header_.fin) return protocol_error("fragmented control frame");
    if (length > 125) return protocol_error("control frame longer than 125 bytes");
  }
  if (options_.role == Role::kServer && !header_.masked) {
    return protocol_error("unmasked frame from a client");
  }
  if (options_.role == Role::kClient && header_.masked) {
    return protocol_error("masked frame from a server");
  }
  header_.mask_key = 0;
  if (header_.masked) {
    for (size_t i = 0; i < 4; ++i) header_.mask_key = (header_.mask_key << 8) | header_bytes_[pos + i];
  }
  return {};
}

FrameParser::Result FrameParser::feed(std::string_view data, FrameSink& sink) {
  if (error_) return {kError, 0};
  size_t used = 0;
  if (!in_payload_) {
    // Gather the header: 2 bytes say how long it is (2 to 14 bytes).
    while (used < data.size()) {
      const size_t want = header_len_ < 2 ? 2 : header_size();
      if (header_len_ >= want) break;
      const size_t n = std::min(want - header_len_, data.size() - used);
      std::copy_n(data.data() + used, n, header_bytes_ + header_len_);
      header_len_ += n;
      used += n;
    }
    if (header_len_ < 2 || header_len_ < header_size()) return {kNeedMore, used};
    if (ProtocolError e = check_header()) return fail(std::move(e), used);
    if (ProtocolError e = sink.on_frame_header(header_)) return fail(std::move(e), used);
    in_payload_ = true;
    remaining_ = header_.length;
    offset_ = 0;
  }
  while (remaining_ > 0 && used < data.size()) {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>({remaining_, data.size() - used, kChunk}));
    std::string_view chunk = data.substr(used, n);
    if (header_.masked) {
      scratch_.assign(chunk);
      unmask(scratch_.data(), n, header_.mask_key, offset_);
      chunk = scratch_;
    }
    used += n;
    remaining_ -= n;
    offset_ += n;
    if (ProtocolError e = sink.on_frame_payload(chunk)) return fail(std::move(e), used);
  }
  if (remaining_ > 0) return {kNeedMore, used};
  in_payload_ = false;
  header_len_ = 0;
  if (ProtocolError e = sink.on_frame_end()) return fail(std::move(e), used);
  return {kFrameEnd, used};
}

}  // namespace greenfork::worker::websocket
