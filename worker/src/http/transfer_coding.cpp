#include "transfer_coding.hpp"

#include <vector>

#include "greenfork/http_token.hpp"

namespace greenfork::worker::http {

namespace {

std::string lower_trimmed(std::string_view v) {
  std::string out(http_token::trim(v));
  for (char& c : out) c = http_token::ascii_lower(c);
  return out;
}

}  // namespace

TransferCodingVerdict check_transfer_encoding(std::string_view value) {
  std::vector<std::string> codings;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    codings.push_back(lower_trimmed(value.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  size_t chunked = 0;
  bool unsupported = false;
  for (const std::string& c : codings) {
    if (c.empty()) return {400, "empty element in Transfer-Encoding"};
    // A coding may carry parameters ("gzip;q=1"); any of them is unsupported.
    if (c == "chunked") {
      ++chunked;
    } else {
      unsupported = true;
    }
  }
  if (chunked > 1) return {400, "chunked applied more than once"};
  if (chunked == 1 && codings.back() != "chunked") {
    return {400, "chunked is not the final transfer coding"};
  }
  if (unsupported) return {501, "unsupported transfer coding"};
  return {};
}

}  // namespace greenfork::worker::http
