#include "engine/exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>


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

bool Exchange::drop_body() {
  body_in_.reset();
  return body_in_.release_memory(kKeptCapacity);
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

void Exchange::write_inline(std::string_view body) {
  if (no_body_ || head_only_) body = {};
  if (remaining_) {
    if (body.size() > *remaining_) body = body.substr(0, *remaining_);
    *remaining_ -= body.size();
  }
  body_sent_ += body.size();
  if (!ctx_.inline_io->hand_over(out_, body)) {
    gone_ = true;
    keep_alive_ = false;
    throw ClientGone("the client went away");
  }
}

void Exchange::write(const char* data, size_t len) {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  if (finished_) throw std::logic_error("write() after finish()");
  if (!started_) started_ = true;  // default 200 OK, no headers
  if (body_buf_.empty() && len >= kFlushBytes) {
    // A big block goes to the wire buffer at once, not through body_buf_
    // (one copy of a 1 MiB body fewer), or inline straight to the socket.
    commit(false);
    if (inline_ && !chunked_) {
      write_inline(std::string_view(data, len));
      return;
    }
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

}  // namespace greenfork::worker
