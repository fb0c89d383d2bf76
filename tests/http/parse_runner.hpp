// Drives a RequestParser over bytes cut into pieces, exactly as the engine
// does (loop on `consumed`, keep the rest), and records what came out plus
// any break of the parser's contract (request_parser.hpp). Shared by the
// data-driven test and the fuzzer so both hold the parser to the same rules.
//
//   ParseOutcome whole = run_parser(bytes, {bytes.size()}, limits);
//   ParseOutcome bytewise = run_parser(bytes, std::vector<size_t>(bytes.size(), 1), limits);
//   EXPECT_EQ(whole, bytewise);
#pragma once

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "greenfork/worker/http/request_parser.hpp"

namespace greenfork::test {

using Field = std::pair<std::string, std::string>;

struct ParsedRequest {
  std::string method;
  std::string target;
  std::string version;  // "1.1"
  std::vector<Field> headers;
  std::string body;
  std::vector<Field> trailers;
  bool keep_alive = true;
  bool operator==(const ParsedRequest&) const = default;
};

struct ParseOutcome {
  std::vector<ParsedRequest> requests;  // one per kComplete, in order
  int error_status = 0;                 // 0 when no kError
  std::string error_reason;
  bool head_of_failed_message = false;  // kHead came for the message that failed
  bool idle_at_end = false;             // parser.idle() after the last byte
  std::string contract_violation;       // empty when the parser kept its contract
  bool operator==(const ParseOutcome& o) const {
    // The reason text may differ between splits only if the status does.
    return requests == o.requests && error_status == o.error_status &&
           head_of_failed_message == o.head_of_failed_message &&
           idle_at_end == o.idle_at_end && contract_violation == o.contract_violation;
  }
};

inline std::string printable(std::string_view s, size_t max = 120) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

inline std::ostream& operator<<(std::ostream& os, const ParsedRequest& r) {
  os << "{" << printable(r.method) << " " << printable(r.target) << " HTTP/" << r.version
     << " keep_alive=" << r.keep_alive << " headers=[";
  for (const auto& [n, v] : r.headers) os << printable(n) << ": " << printable(v) << "; ";
  os << "] body=\"" << printable(r.body) << "\" trailers=[";
  for (const auto& [n, v] : r.trailers) os << printable(n) << ": " << printable(v) << "; ";
  return os << "]}";
}

inline std::ostream& operator<<(std::ostream& os, const ParseOutcome& o) {
  os << "requests=" << o.requests.size();
  for (const auto& r : o.requests) os << "\n    " << r;
  os << "\n  error_status=" << o.error_status << " (" << o.error_reason << ")"
     << " head_of_failed_message=" << o.head_of_failed_message
     << " idle_at_end=" << o.idle_at_end;
  if (!o.contract_violation.empty()) os << "\n  CONTRACT VIOLATION: " << o.contract_violation;
  return os;
}

inline std::vector<Field> fields_of(const std::vector<worker::Header>& hs) {
  std::vector<Field> out;
  out.reserve(hs.size());
  for (const auto& h : hs) out.emplace_back(h.name, h.value);
  return out;
}

// Feeds `data` cut into pieces of the given sizes (the last piece takes any
// rest). Never feeds an empty piece.
inline ParseOutcome run_parser(std::string_view data, const std::vector<size_t>& sizes,
                               const worker::http::ParserLimits& limits) {
  using worker::http::ParseStatus;
  worker::http::RequestParser parser(limits);
  ParseOutcome out;
  ParsedRequest current;
  bool have_head = false;
  size_t offset = 0;
  auto violate = [&](std::string what) {
    if (out.contract_violation.empty()) {
      out.contract_violation = what + " (at stream offset " + std::to_string(offset) + ")";
    }
  };
  auto take_head = [&]() {
    const auto& h = parser.head();
    current = ParsedRequest{};
    current.method = h.method;
    current.target = h.target;
    current.version = std::to_string(h.http_major) + "." + std::to_string(h.http_minor);
    current.headers = fields_of(h.headers);
    current.keep_alive = h.keep_alive;
    have_head = true;
  };

  for (size_t i = 0; offset < data.size(); ++i) {
    size_t want = i + 1 < sizes.size() ? sizes[i] : data.size() - offset;
    if (want == 0) continue;
    std::string_view piece = data.substr(offset, want);
    int stalls = 0;
    while (!piece.empty()) {
      worker::http::ParseResult r = parser.feed(piece);
      if (r.consumed > piece.size()) {
        violate("consumed more bytes than it was given");
        return out;
      }
      piece.remove_prefix(r.consumed);
      offset += r.consumed;
      stalls = r.consumed == 0 ? stalls + 1 : 0;
      if (stalls > 2) {
        violate("no progress: three feeds in a row consumed nothing");
        return out;
      }
      switch (r.status) {
        case ParseStatus::kNeedMore:
          if (!piece.empty()) {
            violate("kNeedMore left bytes unconsumed");
            return out;
          }
          break;
        case ParseStatus::kHead:
          if (have_head) violate("a second kHead for one message");
          take_head();
          if (!parser.head().has_body()) violate("kHead for a message without a body");
          break;
        case ParseStatus::kComplete:
          if (!have_head) {
            take_head();
            if (!parser.body().empty()) violate("kComplete without kHead but with a body");
          }
          current.body = parser.body();
          parser.body().clear();
          current.trailers = fields_of(parser.trailers());
          out.requests.push_back(std::move(current));
          have_head = false;
          break;
        case ParseStatus::kError: {
          out.error_status = parser.error_status();
          out.error_reason = parser.error_reason();
          out.head_of_failed_message = have_head;
          if (out.error_status < 400 || out.error_status > 599) {
            violate("kError with status " + std::to_string(out.error_status));
          }
          // Sticky: the engine may feed again by mistake; it must not recover.
          if (parser.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status != ParseStatus::kError) {
            violate("kError was not sticky");
          }
          return out;
        }
      }
    }
  }
  out.idle_at_end = parser.idle();
  return out;
}

// Piece sizes: a seeded random cut of n bytes into pieces of 1..max_piece.
inline std::vector<size_t> random_split(size_t n, uint32_t seed, size_t max_piece) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> dist(1, max_piece);
  std::vector<size_t> sizes;
  for (size_t left = n; left > 0;) {
    size_t s = std::min(left, dist(rng));
    sizes.push_back(s);
    left -= s;
  }
  return sizes;
}

}  // namespace greenfork::test
