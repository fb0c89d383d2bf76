// The request head of the metrics endpoint's small HTTP/1.1 server, parsed
// with no I/O: good / bad / need more, like Asio's example request_parser.
// Only what the endpoint needs is kept (method, path, Accept); the rest of
// the head is checked for shape and skipped.
//
//   HttpRequestHead head;
//   switch (parse_request_head(buffer, &head)) { ... }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace greenfork::arbiter {

// The largest request head the endpoint reads; past it: 431.
inline constexpr size_t kMaxRequestHead = 8192;

struct HttpRequestHead {
  std::string method;
  std::string path;   // without the query
  std::string accept;
  int version_minor = 1;
};

enum class HeadParse { kGood, kBad, kNeedMore, kTooLarge };

// `buffer` is everything read so far; a complete head ends with a blank
// line (CRLF CRLF, or LF LF as lenient clients send).
HeadParse parse_request_head(std::string_view buffer, HttpRequestHead* head);

// A complete response; the server writes it and closes the connection.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // for 405
};

// "HTTP/1.1 200 OK\r\n..." with Content-Length and Connection: close; the
// body only when `with_body` (not for HEAD).
std::string serialize_response(const HttpResponse& r, bool with_body);

}  // namespace greenfork::arbiter
