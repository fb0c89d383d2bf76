// Feeds bytes to a MessageAssembler in given cuts, looping on `consumed` as
// the engine will, and records what came out; shared by the data test, the
// unit tests and the fuzz target, which compare runs over different cuts.
//
//   AssemblerOutcome whole = run_assembler(bytes, {bytes.size()}, options);
//   AssemblerOutcome bytewise = run_assembler(bytes, std::vector<size_t>(n, 1), options);
//   EXPECT_EQ(whole, bytewise);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/frame_writer.hpp"
#include "websocket/message_assembler.hpp"

namespace greenfork::test {

struct AssemblerOutcome {
  std::vector<worker::websocket::WsEvent> events;
  worker::websocket::MessageAssembler::Status status = worker::websocket::MessageAssembler::kNeedMore;
  size_t consumed = 0;
  uint16_t error_code = 0;
  std::string error_reason;
  std::string contract_violation;  // a broken feed() promise, "" when kept

  bool operator==(const AssemblerOutcome& o) const {
    if (events.size() != o.events.size()) return false;
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& a = events[i];
      const auto& b = o.events[i];
      if (a.kind != b.kind || a.data != b.data || a.code != b.code) return false;
    }
    return status == o.status && consumed == o.consumed && error_code == o.error_code &&
           error_reason == o.error_reason && contract_violation == o.contract_violation;
  }
};

// A whole, valid client frame (an empty text message), to probe what the
// assembler does after an error or a close.
inline constexpr std::string_view kEmptyText("\x81\x80\0\0\0\0", 6);

// `cuts` are chunk sizes (the last chunk takes whatever is left).
inline AssemblerOutcome run_assembler(std::string_view bytes, const std::vector<size_t>& cuts,
                                      const worker::websocket::AssemblerOptions& options) {
  using worker::websocket::MessageAssembler;
  AssemblerOutcome out;
  MessageAssembler assembler(options);
  size_t pos = 0;
  for (size_t i = 0; pos < bytes.size() && out.status == MessageAssembler::kNeedMore; ++i) {
    const size_t n = i + 1 < cuts.size() ? std::min(cuts[i], bytes.size() - pos) : bytes.size() - pos;
    std::string_view chunk = bytes.substr(pos, n);
    MessageAssembler::Result r = assembler.feed(chunk, out.events);
    if (r.consumed > chunk.size()) out.contract_violation = "consumed more than fed";
    if (r.status == MessageAssembler::kNeedMore && r.consumed != chunk.size()) {
      out.contract_violation = "kNeedMore without consuming everything";
    }
    out.consumed += r.consumed;
    out.status = r.status;
    pos += n;
  }
  if (out.status == MessageAssembler::kError) {
    out.consumed = 0;  // how far a refused stream was read depends on the cuts
    out.error_code = assembler.error().code;
    out.error_reason = assembler.error().reason;
    if (out.error_code == 0) out.contract_violation = "kError without a close code";
    std::vector<worker::websocket::WsEvent> more;
    if (assembler.feed(kEmptyText, more).status != MessageAssembler::kError || !more.empty()) {
      out.contract_violation = "kError is not sticky";
    }
  }
  if (out.status == MessageAssembler::kClosed) {
    std::vector<worker::websocket::WsEvent> more;
    auto r = assembler.feed(kEmptyText, more);
    if (r.consumed != 0 || !more.empty()) out.contract_violation = "consumed after the close frame";
  }
  return out;
}

// Chunk sizes covering `size` bytes, drawn from `seed` (1..max_chunk each).
inline std::vector<size_t> random_cuts(size_t size, uint32_t seed, size_t max_chunk) {
  std::vector<size_t> cuts;
  uint64_t x = seed | 1u;
  for (size_t covered = 0; covered < size;) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const size_t n = 1 + static_cast<size_t>(x % max_chunk);
    cuts.push_back(n);
    covered += n;
  }
  return cuts;
}

// Frame flags for the tests (designated initializers that skip members
// trip -Wmissing-field-initializers).
inline worker::websocket::FrameFlags masked(uint32_t key, bool fin = true) {
  worker::websocket::FrameFlags f;
  f.fin = fin;
  f.mask_key = key;
  return f;
}
inline worker::websocket::FrameFlags unfinished() {
  worker::websocket::FrameFlags f;
  f.fin = false;
  return f;
}

}  // namespace greenfork::test
