#include "engine/exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "greenfork/http_token.hpp"

namespace greenfork::worker {

namespace {

// A request body still unread when the response commits is drained (and
// the connection kept) only when at most this much of it is left.
constexpr uint64_t kDrainBytes = 64 * 1024;

// Buffer capacity an idle connection's Exchange keeps.
constexpr size_t kKeptCapacity = 128 * 1024;

}  // namespace

void Exchange::reset(const Context& context, bool inline_mode) {
  ctx_ = context;
  inline_ = inline_mode;
  op_ = Op::kNone;
  acked_ = false;
  ack_ok_ = true;
  started_ = committed_ = finished_ = aborted_ = gone_ = false;
  keep_alive_ = true;
  head_only_ = no_body_ = chunked_ = false;
  request_expects_ = false;
  sent_100_ = false;
  body_done_ = body_error_ = false;
  body_error_status_ = 0;
  body_received_ = 0;
  direct_ok_ = false;
  direct_dst_ = nullptr;
  direct_cap_ = direct_filled_ = 0;
  spare_headers_ = std::move(head_.headers);
  spare_headers_.clear();
  head_.status = 200;
  head_.reason.clear();
  head_.headers.clear();
  head_.content_length.reset();
  head_.close = head_.has_date = head_.has_server = false;
  body_buf_.clear();
  out_.clear();
  body_in_.reset();
  body_sent_ = 0;
  remaining_.reset();
  file_ = FileSlice{};
}

bool Exchange::release_buffers() {
  bool released = false;
  for (std::string* buffer : {&body_buf_, &out_}) {
    if (buffer->capacity() > kKeptCapacity) {
      std::string().swap(*buffer);
      released = true;
    }
  }
  return body_in_.release_memory(kKeptCapacity) || released;
}

Status Exchange::add_body(std::string& bytes) {
  body_received_ += bytes.size();
  return body_in_.append(bytes);
}

void Exchange::run(Application& app) {
  try {
    app.handle(request, *this);
    if (!finished_ && !aborted_) finish();
  } catch (const ClientGone&) {
    if (body_error_status_ != 0) {
      fail_500();  // answers the body's error status
    } else if (!finished_ && !aborted_) {
      abort();
    }
  } catch (const std::exception& e) {
    if (body_error_status_ == 0) {  // a bad body is the client's fault, not logged
      ctx_.host->log_error("Error handling request " + request.method + " " + request.target +
                           ": " + e.what());
    }
    fail_500();
  } catch (...) {
    ctx_.host->log_error("Error handling request " + request.method + " " + request.target +
                         ": unknown exception");
    fail_500();
  }
  // The one hand-back to the I/O thread, and the app thread's last touch of
  // this Exchange: the I/O thread may reuse it as soon as it sees the op.
  if (!inline_) request_op(finished_ && !aborted_ ? Op::kFinish : Op::kAbort, false);
}

void Exchange::fail_500() {
  if (finished_ || aborted_) return;
  if (committed_) {
    abort();
    return;
  }
  // A malformed or oversized request body is the client's fault: its own
  // status (400, 413) rather than the app's 500.
  const int status = body_error_status_ != 0 ? body_error_status_ : 500;
  body_buf_.clear();
  head_ = http::AppHead{};
  head_.status = status;
  head_.reason = std::string(http::reason_phrase(status));
  head_.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  head_.close = true;
  started_ = true;
  body_buf_ = head_.reason + "\n";
  try {
    finish();
  } catch (const ClientGone&) {
  }
}

Status Exchange::start(int status, std::string_view reason, std::vector<Header> headers) {
  if (committed_) return Status::error("response already started");
  if (Status s = http::check_app_head(status, reason, std::move(headers), head_); !s.ok()) return s;
  started_ = true;
  return {};
}

void Exchange::commit(bool final) {
  if (committed_) return;
  committed_ = true;
  no_body_ = http::status_has_no_body(head_.status);
  head_only_ = request.method == "HEAD";
  if (request.http_major == 2) {
    // An HTTP/2 stream: its layer (worker/src/http2/) sends the head as a
    // HEADERS frame and the body unframed in DATA frames.
    if (head_.content_length) remaining_ = *head_.content_length;
    return;
  }
  keep_alive_ = request.keep_alive && !head_.close && !ctx_.stopping->load(std::memory_order_relaxed);
  http::Framing framing = http::Framing::kNone;
  uint64_t length = 0;
  if (no_body_) {
    framing = http::Framing::kNone;
  } else if (head_.content_length) {
    framing = http::Framing::kContentLength;
    length = *head_.content_length;
    remaining_ = length;
  } else if (final) {
    framing = http::Framing::kContentLength;
    length = body_buf_.size();
  } else if (head_only_) {
    framing = http::Framing::kNone;
  } else if (request.http_minor >= 1 && !uwsgi_) {
    framing = http::Framing::kChunked;
    chunked_ = true;
  } else {
    framing = http::Framing::kUntilClose;
    keep_alive_ = false;
  }
  if (!body_done_) {
    // The rest of the request body must be read past before the next request.
    const uint64_t left = request.content_length.value_or(0) - body_received_;
    if ((request_expects_ && !sent_100_) || request.chunked || left > kDrainBytes) {
      keep_alive_ = false;
    }
  }
  out_.reserve(out_.size() + 256 + body_buf_.size());
  http::serialize_head(head_, framing, length, keep_alive_,
                       keep_alive_ && request.http_minor == 0, out_);
}

void Exchange::frame_pending_body() {
  frame_body(body_buf_);
  body_buf_.clear();
}

void Exchange::frame_body(std::string_view body) {
  if (body.empty() || no_body_ || head_only_) return;
  if (remaining_) {
    if (body.size() > *remaining_) body = body.substr(0, *remaining_);
    *remaining_ -= body.size();
    if (body.empty()) return;
  }
  if (chunked_) {
    char hex[24];
    auto [end, ec] = std::to_chars(hex, hex + sizeof hex, body.size(), 16);
    (void)ec;
    out_.reserve(out_.size() + body.size() + 32);
    out_.append(hex, end);
    out_.append("\r\n");
    out_.append(body);
    out_.append("\r\n");
  } else {
    out_.append(body);
  }
  body_sent_ += body.size();
}

void Exchange::write(const char* data, size_t len) {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  if (finished_) throw std::logic_error("write() after finish()");
  if (!started_) started_ = true;  // default 200 OK, no headers
  if (body_buf_.empty() && len >= kFlushBytes) {
    // A big block goes to the wire buffer at once, not through body_buf_
    // (one copy of a 1 MiB body fewer).
    commit(false);
    frame_body(std::string_view(data, len));
    deliver(Op::kFlush);
    return;
  }
  body_buf_.append(data, len);
  if (body_buf_.size() + out_.size() >= kFlushBytes) {
    commit(false);
    frame_pending_body();
    deliver(Op::kFlush);
  }
}

// What write() does past kFlushBytes, on demand: a streamed WSGI block
// must reach the client before the app produces the next (PEP 3333).
void Exchange::flush() {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  if (finished_) return;
  if (!started_) started_ = true;
  commit(false);
  frame_pending_body();
  deliver(Op::kFlush);
}

void Exchange::send_file(int fd, off_t offset, uint64_t count) {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  if (!started_) started_ = true;
  commit(false);
  frame_pending_body();
  if (no_body_ || head_only_) return;
  if (remaining_) {
    count = std::min(count, *remaining_);
    *remaining_ -= count;
  }
  if (count == 0) return;
  if (chunked_) {
    char hex[24];
    auto [end, ec] = std::to_chars(hex, hex + sizeof hex, count, 16);
    (void)ec;
    out_.append(hex, end);
    out_.append("\r\n");
  }
  file_ = FileSlice{fd, offset, count};
  deliver(Op::kSendFile);
  file_ = FileSlice{};
  body_sent_ += count;
  if (chunked_) out_.append("\r\n");
}

void Exchange::finish() {
  if (finished_ || aborted_) return;
  started_ = true;
  commit(true);
  frame_pending_body();
  if (chunked_) out_.append("0\r\n\r\n");
  if (remaining_ && *remaining_ > 0 && !head_only_ && !no_body_) {
    keep_alive_ = false;  // a short body: only closing tells the client
  }
  finished_ = true;  // run() hands the output to the I/O thread
}

void Exchange::abort() noexcept {
  if (finished_ || aborted_) return;
  aborted_ = true;  // run() tells the I/O thread
  keep_alive_ = false;
}

size_t Exchange::read(char* dst, size_t max) {
  for (;;) {
    if (const size_t n = body_in_.read(dst, max); n > 0) return n;
    if (body_done_ || max == 0) return 0;
    if (body_error_ || aborted_ || gone_) throw ClientGone("the request body could not be read");
    if (inline_) return 0;
    request_op(Op::kReadBody, true);
  }
}

void Exchange::deliver(Op op) {
  if (!inline_) {
    request_op(op, true);
    return;
  }
  bool ok = ctx_.inline_io->hand_over(out_);
  if (ok && op == Op::kSendFile) ok = ctx_.inline_io->send_file_now(file_);
  if (!ok) {
    gone_ = true;
    keep_alive_ = false;
    throw ClientGone("the client went away");
  }
}

void Exchange::request_op(Op op, bool wait) {
  // Copy the wake-up first: after a final op the I/O thread may reuse this
  // Exchange as soon as it sees the op.
  void (*wake)(void*) = ctx_.wake;
  void* arg = ctx_.wake_arg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Counted with the op, so whoever sees the op sees its wake-up coming.
    wakes_.fetch_add(1, std::memory_order_relaxed);
    op_ = op;
    acked_ = false;
  }
  wake(arg);
  if (!wait) return;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return acked_; });
  if (!ack_ok_) {
    gone_ = true;
    throw ClientGone("the client went away");
  }
}

Exchange::Op Exchange::take_op() {
  std::lock_guard<std::mutex> lock(mu_);
  const Op op = op_;
  op_ = Op::kNone;
  return op;
}

size_t Exchange::take_body(char* dst, size_t max, bool& end) {
  end = false;
  if (const size_t n = body_in_.read(dst, max); n > 0) {
    end = body_done_ && !body_in_.has_unread();  // the last piece says so (more_body false)
    return n;
  }
  if (body_done_) {
    end = true;
    return 0;
  }
  if (body_error_ || aborted_ || gone_) throw ClientGone("the request body could not be read");
  return 0;
}

Status Exchange::start(int status, std::vector<Header> headers) {
  return start(status, http::reason_phrase(status), std::move(headers));
}

void Exchange::send(std::string_view data) {
  started_ = true;
  commit(false);
  frame_pending_body();
  frame_body(data);  // straight into the wire buffer: one copy fewer per block
  request_op(Op::kFlush, false);
}

void Exchange::finish(std::string_view data) {
  body_buf_.append(data);
  finish();
  request_op(Op::kFinish, false);
}

Status Exchange::pathsend(int fd, uint64_t size) {
  if (committed_ || !body_buf_.empty()) return Status::error("http.response.pathsend after body bytes");
  started_ = true;
  if (!head_.content_length) head_.content_length = size;
  commit(false);  // Content-Length framing: the file is the whole body
  uint64_t count = size;
  if (remaining_) {
    count = std::min(count, *remaining_);
    *remaining_ -= count;
  }
  if (no_body_ || head_only_ || count == 0) {
    request_op(Op::kFlush, false);  // the head alone; io_done all the same
    return {};
  }
  file_ = FileSlice{fd, 0, count};
  body_sent_ += count;
  request_op(Op::kSendFile, false);
  return {};
}

bool Exchange::trailers_wanted() const {
  const Header* te = request.find_header("te");
  return request.http_major == 1 && request.http_minor >= 1 && te != nullptr &&
         http_token::has_token(te->value, "trailers");
}

Status Exchange::declare_trailers(std::string_view names) {
  if (committed_) return Status::error("the response head is already sent");
  std::string_view rest = names;
  while (!rest.empty()) {  // a list of field names
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!name.empty() && !http_token::is_token(name)) {
      return Status::error("invalid Trailer header '" + std::string(names) + "'");
    }
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (trailers_wanted() && !head_.content_length) head_.headers.push_back({"Trailer", std::string(names)});
  return {};
}

Status Exchange::finish_trailers(std::vector<Header> trailers) {
  // The one filter for app fields: names, values, no hop-by-hop or framing.
  StatusOr<http::AppHead> checked = http::check_app_head(200, "", std::move(trailers));
  if (!checked.ok()) return Status::error("http.response.trailers: " + checked.status().message());
  const bool wanted = trailers_wanted();
  started_ = true;
  // A body not yet framed is chunked when trailers are to follow it.
  if (wanted && !committed_ && !head_.content_length) commit(false);
  if (wanted && chunked_ && !head_only_ && !no_body_) {
    frame_pending_body();
    out_.append("0\r\n");
    for (const Header& h : checked->headers) {
      out_.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    out_.append("\r\n");
    chunked_ = false;  // the last chunk is written: finish() adds none
  }
  finish();
  request_op(Op::kFinish, false);
  return {};
}

void Exchange::fail() {
  fail_500();
  request_op(finished_ && !aborted_ ? Op::kFinish : Op::kAbort, false);
}

void Exchange::abort_response() {
  abort();
  request_op(Op::kAbort, false);
}

void Exchange::ack(bool ok) {
  if (ctx_.async_app != nullptr) {
    // The app's thread is not waiting: the completion is its news.
    if (!ok) gone_ = true;
    ctx_.async_app->io_done(*this, ok);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    acked_ = true;
    ack_ok_ = ok;
  }
  cv_.notify_one();
}

}  // namespace greenfork::worker
