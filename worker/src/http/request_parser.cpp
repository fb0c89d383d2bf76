// RequestParser: llhttp (strict mode) plus the checks llhttp leaves to its
// user. A raw scanner runs ahead of llhttp over the head's bytes so that the
// size limits and obs-fold fire at a fixed byte, whatever the input split;
// semantic checks (Host, Transfer-Encoding, the request line's exact shape)
// run once the head is complete.
#include "greenfork/worker/http/request_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "greenfork/http_token.hpp"
#include "greenfork/worker/http/request_target.hpp"
#include "transfer_coding.hpp"

namespace greenfork::worker::http {

namespace {

// Index of the first CR or LF in data[i, n), or n: eight bytes per step
// (a head is mostly line bytes between them).
size_t find_cr_or_lf(const char* data, size_t i, size_t n) {
  static_assert(std::endian::native == std::endian::little);
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, data + i, 8);
    const uint64_t cr = w ^ (kOnes * '\r');
    const uint64_t lf = w ^ (kOnes * '\n');
    // A byte's high bit is set where it is zero (exact for the lowest such
    // byte, the first in memory on a little-endian host, which is the one
    // taken).
    const uint64_t hit = (((cr - kOnes) & ~cr) | ((lf - kOnes) & ~lf)) & kHigh;
    if (hit != 0) return i + static_cast<size_t>(std::countr_zero(hit)) / 8;
  }
  while (i < n && data[i] != '\r' && data[i] != '\n') ++i;
  return i;
}

}  // namespace

struct RequestParser::Impl {
  llhttp_t parser{};
  llhttp_settings_t settings{};
  ParseStatus pause_status = ParseStatus::kNeedMore;
  bool trailers_next = false;  // paused by on_chunk_header, not for the caller
  int cb_status = 0;  // set by a callback that refused the message
  std::string cb_reason;

  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }

  static int refuse(llhttp_t* p, int status, std::string reason) {
    Impl& impl = *self(p).impl_;
    impl.cb_status = status;
    impl.cb_reason = std::move(reason);
    return HPE_USER;
  }

  static int on_message_begin(llhttp_t* p) {
    self(p).start_message();
    return 0;
  }
  static int on_method(llhttp_t* p, const char* at, size_t len) {
    self(p).head_.method.append(at, len);
    return 0;
  }

  static int on_url(llhttp_t* p, const char* at, size_t len) {
    RequestParser& s = self(p);
    s.head_.target.append(at, len);
    // The method is whole once the target starts ("HEADX" is not HEAD); the
    // flag outlives a move from head_.
    s.head_method_ = s.head_.method == "HEAD";
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, size_t len) {
    self(p).field_.append(at, len);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, size_t len) {
    self(p).value_.append(at, len);
    return 0;
  }
  static int on_header_value_complete(llhttp_t* p) { return self(p).finish_field(); }
  static int on_headers_complete(llhttp_t* p) { return self(p).on_headers_complete_checks(); }
  // The last chunk's size line is done: the trailer section follows. Pause so
  // that feed() puts the raw scanner on it, as on a head.
  static int on_chunk_header(llhttp_t* p) {
    if (p->content_length != 0) return 0;
    self(p).impl_->trailers_next = true;
    return HPE_PAUSED;
  }
  static int on_body(llhttp_t* p, const char* at, size_t len) {
    RequestParser& s = self(p);
    s.body_seen_ += len;
    if (s.limits_.body != 0 && s.body_seen_ > s.limits_.body) {
      return refuse(p, 413, "request body larger than the limit");
    }
    if (s.keep_body_) s.body_.append(at, len);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    RequestParser& s = self(p);
    s.message_started_ = false;
    s.in_body_ = false;
    s.head_done_ = false;  // the scanner watches the next head
    s.in_trailers_ = false;
    s.reset_scanner();
    s.impl_->pause_status = ParseStatus::kComplete;
    return HPE_PAUSED;
  }
};

RequestParser::RequestParser(const ParserLimits& limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {
  llhttp_settings_t& st = impl_->settings;
  llhttp_settings_init(&st);
  st.on_message_begin = &Impl::on_message_begin;
  st.on_method = &Impl::on_method;
  st.on_url = &Impl::on_url;
  st.on_header_field = &Impl::on_header_field;
  st.on_header_value = &Impl::on_header_value;
  st.on_header_value_complete = &Impl::on_header_value_complete;
  st.on_headers_complete = &Impl::on_headers_complete;
  st.on_chunk_header = &Impl::on_chunk_header;
  st.on_body = &Impl::on_body;
  st.on_message_complete = &Impl::on_message_complete;
  llhttp_init(&impl_->parser, HTTP_REQUEST, &st);
  impl_->parser.data = this;
}

RequestParser::~RequestParser() = default;

void RequestParser::reset_scanner() {
  request_line_.clear();
  prev_cr_ = false;
  line_len_ = 0;
  line_no_ = 0;
  at_line_start_ = true;
}

void RequestParser::start_trailers() {
  in_trailers_ = true;
  reset_scanner();
  line_no_ = 1;  // no request line: the first line is a field line
}

// Keeps the buffers of the last message (strings, the header vector and
// its Header strings) for this one: no allocation per request once a
// connection has seen requests of this size.
void RequestParser::start_message() {
  head_.method.clear();
  head_.target.clear();
  head_.http_major = 1;
  head_.http_minor = 1;
  n_headers_ = 0;  // head_.headers is cut to n_headers_ at the head's end
  head_.keep_alive = true;
  head_.content_length.reset();
  head_.chunked = head_.expect_continue = head_.upgrade = false;
  body_.clear();
  trailers_.clear();
  field_.clear();
  value_.clear();
  host_count_ = 0;
  transfer_encoding_.clear();
  saw_transfer_encoding_ = false;
  body_seen_ = 0;
  head_method_ = false;
  message_started_ = true;
}

// Scans the bytes of a head (or of a trailer section) ahead of llhttp.
// Returns false with `stop` at the first byte that breaks a rule
// (pending_status_ says which); true when the data ends or the section ends
// first. Stops at the section's end, so body bytes are never scanned.
// Every line ends in CRLF: a CR not followed by LF, or an LF not preceded by
// CR, is refused here whatever llhttp would make of it (RFC 9112 2.2: bare
// LF and bare CR are where parsers disagree, which is what smuggling needs).
bool RequestParser::scan_head(std::string_view data, size_t& stop) {
  auto refuse = [&](size_t at, int status, std::string reason) {
    stop = at;
    pending_status_ = status;
    pending_reason_ = std::move(reason);
    return false;
  };
  auto where = [&] { return std::string(in_trailers_ ? " in the trailers" : " in the request head"); };
  const char* what = in_trailers_ ? "trailer" : "header";
  const size_t n = data.size();
  size_t i = 0;
  while (i < n) {
    const char c = data[i];
    if (prev_cr_ && c != '\n') return refuse(i, 400, "bare CR" + where());
    if (c == '\n') {
      if (!prev_cr_) return refuse(i, 400, "bare LF" + where());
      prev_cr_ = false;
      ++i;
      if (line_len_ == 0) {
        if (line_no_ == 0) continue;  // empty lines before a request: allowed
        return true;  // end of the section; reset when the message completes
      }
      ++line_no_;
      line_len_ = 0;
      at_line_start_ = true;
      continue;
    }
    if (c == '\r') {
      prev_cr_ = true;
      ++i;
      continue;
    }
    // A run of line bytes [i, j): each limit fires at the byte that
    // crosses it, exactly as a byte-by-byte scan would.
    const size_t j = find_cr_or_lf(data.data(), i + 1, n);
    const size_t run = j - i;
    const size_t len0 = line_len_;
    if (at_line_start_ && line_no_ >= 1 && (c == ' ' || c == '\t')) {
      return refuse(i, 400, "obsolete line folding (a field line starting with whitespace)");
    }
    if (line_no_ == 0) {
      const size_t max = limits_.request_line;
      if (max != 0 && len0 + run > max) {
        return refuse(i + (max - len0), 414, "request line longer than " + std::to_string(max));
      }
      request_line_.append(data.data() + i, run);
    } else {
      if (len0 == 0 && limits_.fields != 0 && line_no_ > limits_.fields) {
        return refuse(i, 431, "more than " + std::to_string(limits_.fields) + " " + what + " fields");
      }
      // Gunicorn counts a field line with its CRLF (message.py:
      // header_length = len(line) + len("\r\n")), the request line without.
      const size_t fs = limits_.field_size;
      const size_t max = fs >= 2 ? fs - 2 : 0;
      if (fs != 0 && len0 + run > max) {
        return refuse(i + (max - len0), 431,
                      std::string(what) + " field line (with its CRLF) longer than " +
                          std::to_string(fs));
      }
    }
    at_line_start_ = false;
    line_len_ = len0 + run;
    i = j;
  }
  return true;
}

ParseResult RequestParser::fail(int status, std::string reason, size_t consumed) {
  head_.headers.resize(std::min(head_.headers.size(), n_headers_));
  error_status_ = status;
  error_reason_ = std::move(reason);
  return {ParseStatus::kError, consumed};
}

ParseResult RequestParser::feed(std::string_view data) {
  if (error_status_ != 0) return {ParseStatus::kError, 0};
  llhttp_t* p = &impl_->parser;
  if (paused_) {
    llhttp_resume(p);
    paused_ = false;
  }
  size_t limit = data.size();
  bool violation = false;
  if (!head_done_ || in_trailers_) {
    size_t stop = 0;
    if (!scan_head(data, stop)) {
      violation = true;
      limit = stop;
    }
  }
  const llhttp_errno_t err = llhttp_execute(p, data.data(), limit);
  switch (err) {
    case HPE_OK:
      if (violation) return fail(pending_status_, pending_reason_, limit);
      return {ParseStatus::kNeedMore, limit};
    case HPE_PAUSED: {
      const size_t consumed = static_cast<size_t>(llhttp_get_error_pos(p) - data.data());
      if (impl_->trailers_next) {
        // Our own pause: scan the trailer section like a head, then go on.
        impl_->trailers_next = false;
        llhttp_resume(p);
        start_trailers();
        if (consumed == data.size()) return {ParseStatus::kNeedMore, consumed};
        ParseResult rest = feed(data.substr(consumed));
        rest.consumed += consumed;
        return rest;
      }
      paused_ = true;
      return {impl_->pause_status, consumed};
    }
    case HPE_PAUSED_H2_UPGRADE:
      // "PRI * HTTP/2.0": an h2c client with prior knowledge.
      return fail(400, "an HTTP/2 client preface: HTTP/2 is off here (--http-protocols h1,h2)", 0);
    default:
      if (impl_->cb_status != 0) return fail(impl_->cb_status, impl_->cb_reason, 0);
      return fail(400, llhttp_get_error_reason(p), 0);
  }
}

int RequestParser::finish_field() {
  llhttp_t* p = &impl_->parser;
  // field_ keeps its buffer: cleared below, once `name` is used.
  const std::string& name = field_;
  std::string_view value = http_token::trim(value_);
  struct Clear {
    std::string& s;
    ~Clear() { s.clear(); }
  } clear_name{field_};
  if (name.empty()) return Impl::refuse(p, 400, "empty header name");
  const bool underscore = name.find('_') != std::string::npos;
  if (in_trailers_) {  // the raw scanner has counted and measured it
    if (http_token::iequals(name, "content-length") || http_token::iequals(name, "transfer-encoding") ||
        http_token::iequals(name, "host")) {
      return Impl::refuse(p, 400, "framing header " + name + " in trailers");
    }
    if (!underscore) trailers_.push_back(Header{name, std::string(value)});
    value_.clear();
    return 0;
  }
  // By length first: most names are none of these three.
  const size_t len = name.size();
  if (len == 4 && http_token::iequals(name, "host")) {
    if (++host_count_ > 1) return Impl::refuse(p, 400, "more than one Host header");
  } else if (len == 17 && http_token::iequals(name, "transfer-encoding")) {
    if (saw_transfer_encoding_) transfer_encoding_ += ',';
    transfer_encoding_.append(value);
    saw_transfer_encoding_ = true;
  } else if (len == 6 && http_token::iequals(name, "expect")) {
    if (http_token::iequals(value, "100-continue")) head_.expect_continue = true;
  }
  if (!underscore) {
    std::vector<Header>& headers = head_.headers;
    if (n_headers_ < headers.size()) {  // reuse the last message's strings
      headers[n_headers_].name.assign(name);
      headers[n_headers_].value.assign(value);
    } else {
      headers.push_back(Header{name, std::string(value)});
    }
    ++n_headers_;
  }
  value_.clear();
  return 0;
}

// Runs once per message when llhttp has the whole head.
int RequestParser::on_headers_complete_checks() {
  llhttp_t* p = &impl_->parser;
  head_.headers.resize(n_headers_);
  // The request line must be exactly "METHOD SP target SP HTTP/x.y": llhttp
  // tolerates repeated spaces.
  // One pass: exactly two single spaces, no tab.
  size_t spaces = 0;
  size_t sp1 = 0;
  size_t sp2 = 0;
  bool tab = false;
  for (size_t i = 0; i < request_line_.size(); ++i) {
    const char c = request_line_[i];
    if (c == ' ') {
      if (++spaces == 1) sp1 = i;
      if (spaces == 2) sp2 = i;
    } else if (c == '\t') {
      tab = true;
    }
  }
  if (spaces != 2 || tab || sp2 == sp1 + 1) {
    return Impl::refuse(p, 400, "malformed request line");
  }
  for (const char c : head_.target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return Impl::refuse(p, 400, "invalid byte in request target");
  }
  if (!http_token::is_token(head_.method)) return Impl::refuse(p, 400, "invalid method");
  head_.http_major = p->http_major;
  head_.http_minor = p->http_minor;
  if (head_.http_major != 1 || head_.http_minor > 1) {
    return Impl::refuse(p, 505, "HTTP version not supported");
  }
  if (p->method == HTTP_CONNECT) return Impl::refuse(p, 501, "CONNECT is not supported");
  if (head_.http_minor == 1 && host_count_ == 0) {
    return Impl::refuse(p, 400, "HTTP/1.1 request without Host");
  }
  if (!valid_target_form(head_.target, p->method == HTTP_OPTIONS)) {
    return Impl::refuse(p, 400, "invalid request target");
  }
  if (saw_transfer_encoding_) {
    if (head_.http_minor == 0) {
      return Impl::refuse(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    const TransferCodingVerdict verdict = check_transfer_encoding(transfer_encoding_);
    if (verdict.status != 0) return Impl::refuse(p, verdict.status, verdict.reason);
  }
  if ((p->flags & F_CONTENT_LENGTH) != 0) {
    if (saw_transfer_encoding_) {
      return Impl::refuse(p, 400, "both Content-Length and Transfer-Encoding");
    }
    head_.content_length = p->content_length;
    if (limits_.body != 0 && p->content_length > limits_.body) {
      return Impl::refuse(p, 413, "Content-Length larger than the limit");
    }
  }
  head_.chunked = (p->flags & F_CHUNKED) != 0;
  if (p->upgrade != 0) {
    // No protocol switch: serve it as a plain request, then close.
    head_.upgrade = true;
    p->upgrade = 0;
  }
  head_.keep_alive = llhttp_should_keep_alive(p) != 0 && !head_.upgrade;
  head_done_ = true;
  if (!head_.has_body()) return 0;  // straight on to on_message_complete
  in_body_ = true;
  impl_->pause_status = ParseStatus::kHead;
  return HPE_PAUSED;
}

}  // namespace greenfork::worker::http
