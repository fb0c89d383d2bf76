// libFuzzer target for gworker's WebSocket receive path
// (worker/src/websocket/): FrameParser + MessageAssembler + MessageInflater.
//
// Beyond "does not crash" (ASan/UBSan), every input is checked against what
// the assembler promises:
//   - its feed() contract: kNeedMore consumes everything, kError is sticky
//     with a close code, nothing is consumed after a close frame
//     (tests/websocket/assembler_runner.hpp);
//   - split independence: fed whole, in a random cut and (short inputs) byte
//     by byte, the same events, result and close code and reason;
//   - what reaches the app: text messages and close reasons are UTF-8, no
//     message is longer than the bound, close codes are ones a peer may send
//     (or 1005), an error is 1002, 1007 or 1009;
//   - inflation alone never produces more than the bound plus one byte.
// The first input byte picks the options (permessage-deflate or not, context
// takeover, a tiny or the default max size); the rest is the client's bytes,
// so the data files of tests/data/websocket seed it after one option byte.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "assembler_runner.hpp"
#include "websocket/frame.hpp"
#include "websocket/permessage_deflate.hpp"
#include "websocket/utf8_validator.hpp"

namespace {

using greenfork::test::AssemblerOutcome;
using greenfork::test::run_assembler;
namespace ws = greenfork::worker::websocket;

[[noreturn]] void broken(const char* rule, const AssemblerOutcome& got) {
  std::fprintf(stderr, "ws_frame_fuzz: %s\n", rule);
  std::fprintf(stderr, "  events=%zu status=%d code=%u (%s)\n", got.events.size(), static_cast<int>(got.status),
               got.error_code, got.error_reason.c_str());
  if (!got.contract_violation.empty()) std::fprintf(stderr, "  contract: %s\n", got.contract_violation.c_str());
  std::abort();
}

uint64_t fnv1a(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

void check_events(const AssemblerOutcome& got, uint64_t max_size) {
  for (const ws::WsEvent& e : got.events) {
    if ((e.kind == ws::WsEvent::kText || e.kind == ws::WsEvent::kClose) && !ws::valid_utf8(e.data)) {
      broken("text message or close reason that is not UTF-8 reached the app", got);
    }
    if ((e.kind == ws::WsEvent::kText || e.kind == ws::WsEvent::kBinary) && e.data.size() > max_size) {
      broken("message longer than the max size reached the app", got);
    }
    if ((e.kind == ws::WsEvent::kPing || e.kind == ws::WsEvent::kPong) && e.data.size() > 125) {
      broken("control payload longer than 125 bytes", got);
    }
    if (e.kind == ws::WsEvent::kClose && e.code != ws::close_code::kNoStatus &&
        !ws::close_code_valid_on_wire(e.code)) {
      broken("close code not allowed on the wire reached the app", got);
    }
  }
  if (got.status == ws::MessageAssembler::kError && got.error_code != ws::close_code::kProtocolError &&
      got.error_code != ws::close_code::kInvalidPayload && got.error_code != ws::close_code::kMessageTooBig) {
    broken("error with a close code other than 1002, 1007, 1009", got);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const uint64_t h = fnv1a(bytes);

  ws::AssemblerOptions options;
  options.max_message_size = (knobs & 1) != 0 ? 64 : uint64_t{16} << 20;
  if ((knobs & 2) != 0) {
    ws::DeflateParams p;
    p.client_no_context_takeover = (knobs & 4) != 0;
    options.deflate = p;
  }

  AssemblerOutcome whole = run_assembler(bytes, {bytes.size()}, options);
  if (!whole.contract_violation.empty()) broken("contract broken (fed whole)", whole);
  check_events(whole, options.max_message_size);

  auto cut = greenfork::test::random_cuts(bytes.size(), static_cast<uint32_t>(h >> 8), 1 + ((h >> 40) & 31));
  if (!(run_assembler(bytes, cut, options) == whole)) broken("fed in a random cut, the result differs", whole);
  if (bytes.size() <= 512) {
    if (!(run_assembler(bytes, std::vector<size_t>(bytes.size(), 1), options) == whole)) {
      broken("fed byte by byte, the result differs", whole);
    }
  }

  // The raw bytes as one compressed message: bounded whatever they hold.
  ws::MessageInflater inflater(ws::DeflateParams{});
  std::string out;
  const uint64_t bound = (knobs & 8) != 0 ? 100 : 4096;
  ws::ProtocolError e = inflater.inflate(bytes, bound, out);
  if (out.size() > bound + 1) broken("inflate produced more than its bound", whole);
  if (!e && out.size() > bound) broken("inflate passed its bound without 1009", whole);
  return 0;
}
