// The uwsgi binary protocol's request packet (what nginx's uwsgi_pass
// sends; --protocol uwsgi): a 4-byte header — modifier1, datasize (16-bit
// little-endian), modifier2 — then `datasize` bytes of variables, each a
// 16-bit little-endian key length, the key, a 16-bit value length, the
// value; the request body (CONTENT_LENGTH bytes) follows. No I/O: feed the
// bytes received so far, get need-more, complete or an error.
//
//   UwsgiParser parser(limits);
//   UwsgiParse r = parser.parse(bytes);          // kNeedMore: read more, parse again
//   if (r.status == UwsgiParse::kComplete) {
//     StatusOr<UwsgiRequest> req = to_request(parser.vars());  // method, target, headers
//     body starts at bytes.substr(r.consumed)
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker::uwsgi {

// From --limit-request-*: variables past `vars` (fields plus the dozen
// CGI variables nginx always sends), or a key or value past `var_size`,
// refuse the packet. datasize itself is at most 65535 bytes.
struct UwsgiLimits {
  size_t vars = 100 + 32;
  size_t var_size = 8190;
  // A request line (REQUEST_URI) longer than this (--limit-request-line).
  size_t request_line = 4094;
};

struct UwsgiParse {
  enum Status { kNeedMore, kComplete, kError };
  Status status = kNeedMore;
  size_t consumed = 0;  // with kComplete: the header and vars block
};

class UwsgiParser {
 public:
  explicit UwsgiParser(const UwsgiLimits& limits = {}) : limits_(limits) {}
  // All the bytes received so far (from the connection's first byte).
  UwsgiParse parse(std::string_view data);
  // After kComplete: the variables in packet order.
  const std::vector<std::pair<std::string, std::string>>& vars() const { return vars_; }
  int modifier1() const { return modifier1_; }
  int modifier2() const { return modifier2_; }
  // After kError: why ("unsupported modifier1 5", "truncated value of QUERY_STRING").
  const std::string& error() const { return error_; }

 private:
  UwsgiParse fail(std::string why);

  UwsgiLimits limits_;
  std::vector<std::pair<std::string, std::string>> vars_;
  int modifier1_ = 0;
  int modifier2_ = 0;
  std::string error_;
};

// A request as the engine's protocols all describe it, from the variables.
struct UwsgiRequest {
  std::string method;
  std::string target;  // REQUEST_URI (raw), else PATH_INFO?QUERY_STRING re-encoded
  int http_major = 1;
  int http_minor = 1;
  // HTTP_* variables as headers ("HTTP_X_FOO" -> "X-FOO"), with
  // CONTENT_TYPE and CONTENT_LENGTH as Content-Type and Content-Length.
  std::vector<Header> headers;
  std::optional<uint64_t> content_length;  // CONTENT_LENGTH; absent when empty
  std::string remote_addr;                  // REMOTE_ADDR
  std::optional<uint16_t> remote_port;      // REMOTE_PORT
  std::string server_name;                  // SERVER_NAME
  std::string server_port;                  // SERVER_PORT
  std::optional<std::string> scheme;        // "https" when HTTPS is on; UWSGI_SCHEME
};

// Refuses what cannot be a request: a method that is not a token, a
// target with control bytes, a bad CONTENT_LENGTH, REMOTE_PORT or scheme,
// a header value with CR, LF or NUL.
StatusOr<UwsgiRequest> to_request(const std::vector<std::pair<std::string, std::string>>& vars,
                                  const UwsgiLimits& limits = {});

}  // namespace greenfork::worker::uwsgi
