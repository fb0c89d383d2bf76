// Exchange's AsyncExchange side (exchange.hpp): what an async app's thread
// calls on a request (the ASGI and green protocols) and the posted ops the
// I/O thread takes and acknowledges.
#include "engine/exchange.hpp"

#include <algorithm>

#include "greenfork/http_token.hpp"

namespace greenfork::worker {

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
