// libFuzzer target for gworker's RequestParser (worker/http/request_parser.hpp).
//
// Beyond "does not crash" (ASan/UBSan), every input is checked against what
// the parser promises:
//   - its contract: kNeedMore consumes everything, progress is made, kError
//     is sticky and carries a 4xx/5xx (tests/http/parse_runner.hpp);
//   - split independence: the bytes fed whole and fed in a random cut (and
//     byte by byte when short) give the same requests and the same status;
//   - nothing ambiguous reaches the app: a completed request never has both
//     Content-Length and chunked, never two Host or Content-Length fields, no
//     CR/LF/NUL/CTL in a name or value, no '_' in a name, no empty method or
//     target.
// Inputs are raw request bytes (the data files seed the corpus as they are);
// a hash of the input picks the random cut and whether tiny limits are used,
// so the limit paths (413/414/431) get fuzzed too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parse_runner.hpp"

namespace {

using greenfork::test::Field;
using greenfork::test::ParseOutcome;
using greenfork::test::ParsedRequest;
using greenfork::test::run_parser;

[[noreturn]] void broken(const char* rule, const ParseOutcome& got) {
  std::fprintf(stderr, "request_parser_fuzz: %s\n", rule);
  std::fprintf(stderr, "  requests=%zu error_status=%d (%s)\n", got.requests.size(),
               got.error_status, got.error_reason.c_str());
  if (!got.contract_violation.empty()) {
    std::fprintf(stderr, "  contract: %s\n", got.contract_violation.c_str());
  }
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

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if ((x | 0x20) != (y | 0x20)) return false;
  }
  return true;
}

bool clean_value(std::string_view v) {
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^`|~").find(c) != std::string_view::npos;
    if (!ok) return false;  // '_' is a tchar, but such names are dropped
  }
  return true;
}

void check_request(const ParsedRequest& r, const ParseOutcome& got) {
  if (r.method.empty() || !token(r.method)) broken("bad method reached the app", got);
  if (r.target.empty()) broken("empty target reached the app", got);
  for (char c : r.target) {
    if (c <= 0x20 || c >= 0x7f) broken("target byte outside visible ASCII reached the app", got);
  }
  if (r.version != "1.0" && r.version != "1.1") broken("version other than 1.0/1.1", got);
  size_t hosts = 0, lengths = 0, encodings = 0;
  for (const auto& fields : {r.headers, r.trailers}) {
    for (const Field& f : fields) {
      if (!token(f.first)) broken("bad header name reached the app", got);
      if (!clean_value(f.second)) broken("control byte in a header value", got);
      if (!f.second.empty() && (f.second.front() == ' ' || f.second.front() == '\t' ||
                                f.second.back() == ' ' || f.second.back() == '\t')) {
        broken("header value not trimmed", got);
      }
    }
  }
  for (const Field& f : r.headers) {
    hosts += equals_ci(f.first, "Host");
    lengths += equals_ci(f.first, "Content-Length");
    encodings += equals_ci(f.first, "Transfer-Encoding");
  }
  if (hosts > 1) broken("two Host fields reached the app", got);
  if (lengths > 1) broken("two Content-Length fields reached the app", got);
  if (lengths > 0 && encodings > 0) broken("Content-Length and Transfer-Encoding both", got);
  if (r.version == "1.0" && encodings > 0) broken("Transfer-Encoding on HTTP/1.0", got);
}

// What must not depend on where the bytes were split: the requests handed to
// the app and whether the stream was refused. The status of a refusal may:
// an input with two faults (a trailer field over the size limit that also
// holds a bad token further on) is refused for whichever fault llhttp
// reports first, and llhttp reports a span only when it ends or the feed
// does. A single fault gets one status however it is split (the data test,
// tests/http/parser_data_test.cpp, holds every case to its exact status).
bool same_verdict(const ParseOutcome& a, const ParseOutcome& b) {
  return a.requests == b.requests && (a.error_status != 0) == (b.error_status != 0) &&
         a.idle_at_end == b.idle_at_end && a.contract_violation == b.contract_violation;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t h = fnv1a(bytes);

  greenfork::worker::http::ParserLimits limits;
  if ((h & 3) == 0) {  // a quarter of the inputs run with tiny limits
    limits.request_line = 64;
    limits.fields = 4;
    limits.field_size = 48;
    limits.body = 40;
  }

  ParseOutcome whole = run_parser(bytes, {size}, limits);
  if (!whole.contract_violation.empty()) broken("contract broken (fed whole)", whole);
  for (const ParsedRequest& r : whole.requests) check_request(r, whole);

  auto cut = greenfork::test::random_split(size, static_cast<uint32_t>(h >> 8),
                                           1 + ((h >> 40) & 31));
  ParseOutcome split = run_parser(bytes, cut, limits);
  if (!same_verdict(split, whole)) broken("fed in a random cut, the result differs from fed whole", split);

  if (size <= 512) {
    ParseOutcome bytewise = run_parser(bytes, std::vector<size_t>(size, 1), limits);
    if (!same_verdict(bytewise, whole)) broken("fed byte by byte, the result differs from fed whole", bytewise);
  }
  return 0;
}
