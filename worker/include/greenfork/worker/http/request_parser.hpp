// RequestParser: an I/O-free, strict HTTP/1.1 request parser (llhttp 8.1
// compiled with LLHTTP_STRICT_MODE, no lenient flag) that refuses anything
// ambiguous before it can reach an application.
//
// Feed it bytes as they arrive, in any split; it answers
//   kNeedMore  every byte was consumed, feed more;
//   kHead      the head of a message WITH a body is complete (head() valid);
//              the body follows: feed again, decoded bytes land in body();
//   kComplete  the message is complete (head(), body(), trailers() valid).
//              A message without a body goes straight to kComplete (no kHead).
//              Bytes after it (a pipelined request) are NOT consumed: feed
//              them again and the next message starts;
//   kError     error_status() / error_reason(): answer that status with
//              "Connection: close" and close. Sticky: every later feed() says
//              kError again.
// `consumed` counts the bytes of `data` used; the caller keeps the rest.
//
//   RequestParser parser(limits);
//   std::string_view in = bytes_from_socket;
//   while (!in.empty()) {
//     ParseResult r = parser.feed(in);
//     in.remove_prefix(r.consumed);
//     if (r.status == ParseStatus::kError) { reply(parser.error_status()); break; }
//     if (r.status == ParseStatus::kHead) start_app(parser.head());
//     if (r.status == ParseStatus::kComplete) { finish(parser.head(), parser.body()); }
//     if (r.status == ParseStatus::kNeedMore) break;  // read more from the socket
//   }
//
// body() accumulates decoded body bytes (chunk framing removed) until the
// caller drains it (body().clear() or swap); a caller that wants
// back-pressure simply stops feeding while body() is large. head() may be
// moved from after kHead/kComplete; the next message resets it.
//
// What is refused (status, then the reason text says which rule):
//   414  request line longer than limits.request_line (raw bytes, CRLF excluded)
//   431  more than limits.fields header lines, or one header line
//        ("Name: value" plus its CRLF, raw bytes) longer than limits.field_size;
//        trailers count against the same limits. Both limits as Gunicorn
//        counts them: at 4094 and 8190, a 4094-byte request line and an
//        8188-byte header line (8190 with CRLF) pass; one byte more does not.
//   413  Content-Length or the decoded chunked body above limits.body
//   501  Transfer-Encoding with a coding other than chunked ("gzip, chunked",
//        "gzip", "identity"); the CONNECT method
//   505  an HTTP version other than 1.0 and 1.1
//   400  everything else, among them: Content-Length with Transfer-Encoding;
//        two Content-Length headers (even equal) or a malformed one (+1, 1,1,
//        " 1 1", overflow); "chunked" not last or repeated in
//        Transfer-Encoding; Transfer-Encoding on HTTP/1.0; a bad chunk size,
//        extension or missing CRLF after chunk data; bare CR or bare LF
//        anywhere in the head, the chunk framing or the trailers (every line
//        ends in CRLF: "0\r\n\n" is refused, not read as the end of the
//        body); obs-fold (a header or trailer line starting with SP/HT);
//        NUL, CTL or DEL in a header name or value; whitespace before the
//        colon; an empty header name; a second Host header, or none in an
//        HTTP/1.1 request; a request line that is not exactly "METHOD SP
//        target SP HTTP/x.y"; a target with bytes outside visible ASCII or
//        not in origin-form ("/p"), absolute-form with a host ("http://h/p")
//        or "*" (OPTIONS).
// Header names containing '_' are DROPPED (never seen by the app, never
// refused), like nginx's default underscores_in_headers off: so an app's
// HTTP_X_FOO can only come from "X-Foo", whatever else the client sent.
// Header values are trimmed of surrounding SP/HT; names keep their spelling.
// "Upgrade" requests are served as ordinary requests with keep_alive=false
// (no protocol switch is supported). Limits of 0 mean "unlimited".
//
// For H6 (data-driven tests, fuzzing): construct one parser per test input,
// feed the file's bytes whole, byte by byte, or in random splits, looping on
// `consumed` exactly as above; every split yields the same result, because
// every check fires at a fixed byte position. Valid files: collect head()
// at kHead/kComplete, append body() and read trailers() at kComplete; a
// pipelined file gives several kComplete in order. Invalid files: expect
// kError with error_status(); never a kHead/kComplete for the bad message.
// The parser never reads past `data`, never allocates more than the limits
// allow for one head (plus body() until drained), and never throws except
// std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::worker::http {

struct ParserLimits {
  size_t request_line = 4094;  // --limit-request-line (414)
  size_t fields = 100;         // --limit-request-fields (431)
  size_t field_size = 8190;    // --limit-request-field_size (431)
  uint64_t body = uint64_t{1} << 30;  // --limit-request-body (413), 1 GiB
};

struct RequestHead {
  std::string method;  // "GET"
  std::string target;  // raw request-target, "/a%20b?x=1"
  int http_major = 1;
  int http_minor = 1;
  std::vector<Header> headers;  // arrival order, '_' names dropped
  bool keep_alive = true;       // HTTP/1.1 default, 1.0 with keep-alive
  std::optional<uint64_t> content_length;  // set when the client sent one
  bool chunked = false;                    // Transfer-Encoding: chunked
  bool expect_continue = false;            // Expect: 100-continue
  bool upgrade = false;                    // had Connection: upgrade + Upgrade
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

enum class ParseStatus { kNeedMore, kHead, kComplete, kError };

struct ParseResult {
  ParseStatus status;
  size_t consumed;
};

class RequestParser {
 public:
  explicit RequestParser(const ParserLimits& limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  ParseResult feed(std::string_view data);

  RequestHead& head() { return head_; }
  const RequestHead& head() const { return head_; }
  std::string& body() { return body_; }
  const std::vector<Header>& trailers() const { return trailers_; }
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }
  // True between messages: no byte of a next message has been consumed
  // (leading empty lines aside). The engine uses it to tell an idle
  // keep-alive connection from a slow head.
  bool idle() const { return !message_started_; }
  // True after kHead until kComplete: the body is being read.
  bool in_body() const { return in_body_; }
  // Off: body bytes are checked and counted but not copied to body() (the
  // caller fed bytes it already holds where it wants them: a
  // Content-Length body read straight into the app's buffer).
  void keep_body(bool on) { keep_body_ = on; }
  // After kError: the refused message is a HEAD request (as far as it was
  // read), so its error response must carry no body (RFC 9110 9.3.2).
  bool failed_head_request() const { return message_started_ && head_method_; }

 private:
  struct Impl;  // llhttp state and callbacks, out of the header
  friend struct Impl;

  ParseResult fail(int status, std::string reason, size_t consumed);
  bool scan_head(std::string_view data, size_t& stop);
  void reset_scanner();
  void start_trailers();
  void start_message();
  int finish_field();
  int on_headers_complete_checks();

  ParserLimits limits_;
  std::unique_ptr<Impl> impl_;
  RequestHead head_;
  std::string body_;
  std::vector<Header> trailers_;
  int error_status_ = 0;
  std::string error_reason_;
  bool message_started_ = false;
  bool in_body_ = false;
  bool keep_body_ = true;
  bool head_done_ = false;
  bool in_trailers_ = false;  // after the last chunk: the scanner watches trailers
  bool head_method_ = false;  // the current message's method is HEAD
  bool paused_ = false;

  // Raw head scanner (line lengths, line count, obs-fold), see scan_head().
  std::string request_line_;
  size_t line_len_ = 0;
  size_t line_no_ = 0;
  bool at_line_start_ = true;
  bool prev_cr_ = false;
  int pending_status_ = 0;
  std::string pending_reason_;

  // Header being assembled, and what the head said about framing.
  std::string field_;
  std::string value_;
  size_t host_count_ = 0;
  size_t n_headers_ = 0;  // head_.headers in use (the rest: buffers to reuse)
  std::string transfer_encoding_;  // all Transfer-Encoding values, comma-joined
  bool saw_transfer_encoding_ = false;
  uint64_t body_seen_ = 0;
};

}  // namespace greenfork::worker::http
