// Building a response head: validated app headers plus what the engine owns
// (Date, Server, Connection, framing). I/O-free, used by the engine's
// Exchange on whichever thread commits the response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker::http {

// "OK" for 200, "" for codes without a standard phrase.
std::string_view reason_phrase(int status);

// The IMF-fixdate of the current second ("Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted at most once per second per thread.
std::string_view http_date();

// What the app asked for, checked: the one response-header filter for every
// app kind (native and WSGI alike). Hop-by-hop headers
// (http_token::is_hop_by_hop) are removed; "close" in Connection becomes
// close=true; Content-Length is parsed.
struct AppHead {
  int status = 200;
  std::string reason;
  std::vector<Header> headers;
  std::optional<uint64_t> content_length;
  bool close = false;
  bool has_date = false;
  bool has_server = false;
};
StatusOr<AppHead> check_app_head(int status, std::string_view reason, std::vector<Header> headers);
// The same into an existing head (its buffers reused), which is left as it
// was when the answer is an error.
Status check_app_head(int status, std::string_view reason, std::vector<Header>&& headers,
                      AppHead& head);

// Statuses whose responses never carry a body (1xx, 204, 304).
bool status_has_no_body(int status);

enum class Framing { kContentLength, kChunked, kUntilClose, kNone };

// Appends "HTTP/1.1 <status> <reason>\r\n<headers>\r\n" to `out`.
// `length` is the Content-Length to announce with kContentLength.
void serialize_head(const AppHead& head, Framing framing, uint64_t length, bool keep_alive,
                    bool http10_keep_alive, std::string& out);

// A complete short response for framing errors and app failures:
// "HTTP/1.1 400 Bad Request", Connection: close, a one-line text body.
// For a HEAD request (`head_request`), the same head, Content-Length
// included (the length a GET would get, RFC 9110 9.3.2), and no body.
std::string error_response(int status, std::string_view detail, bool head_request = false);

}  // namespace greenfork::worker::http
