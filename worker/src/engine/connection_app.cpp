// Connection, part 2: a request's body read from the socket into the
// exchange, and the app run on the request (inline, or on the app's threads
// or loop, serving the ops it posts until its last one).
#include "engine/connection.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace greenfork::worker {
namespace {

// After the response, at most this much unread request body is skipped to
// keep the connection; beyond it the connection closes.
constexpr uint64_t kDrainBytes = 256 * 1024;
// A streamed body's read-ahead: the socket is read while it has bytes,
// until this much waits for the app (one http.request message, one
// hand-off to the app's loop).
constexpr size_t kStreamBlock = 256 * 1024;
constexpr auto kNoThrowWait = asio::experimental::as_tuple(asio::use_awaitable);
// A large body's sender silent this long gives its read-ahead share up
// when other bodies wait for one (see yield_stalled_body()).
constexpr auto kBodyStall = std::chrono::seconds(1);

}  // namespace

bool Connection::hand_body(std::string& bytes) {
  if (Status s = exchange_.add_body(bytes); !s.ok()) {
    server_.host().log_error(s.message());
    body_error_status_ = 503;
    body_error_reason_ = "the request body could not be buffered";
    exchange_.set_body_error(body_error_status_);
    return false;
  }
  return true;
}

bool Connection::read_now() {
  if (closed_ || tls_) return false;
  size_t room = 0;
  char* space = input_.space(room);
  const ssize_t n = ::recv(socket_.native_handle(), space, room, MSG_DONTWAIT);
  if (n <= 0) return false;  // nothing now, or the next read_more() sees why
  input_.commit(static_cast<size_t>(n));
  return true;
}

asio::awaitable<bool> Connection::read_body(bool until_complete, bool discard) {
  uint64_t drained = 0;
  // A streamed body (the app waits for *some* bytes) gathers in the
  // parser's buffer up to a block, a buffered one up to body_hold_.
  const size_t hold = until_complete ? body_hold_ : kStreamBlock;
  for (;;) {
    if (!input_.empty()) {
      const http::ParseResult r = parser_.feed(input_.unread());
      input_.consume(r.consumed);
      std::string& bytes = parser_.body();
      if (discard) {
        drained += bytes.size();
        bytes.clear();
        if (drained > kDrainBytes) co_return false;
      } else if (!bytes.empty() && (r.status != http::ParseStatus::kNeedMore || bytes.size() >= hold)) {
        // Moved to the exchange without a copy when it has nothing unread.
        if (!hand_body(bytes)) co_return false;
      }
      if (r.status == http::ParseStatus::kError) {
        body_error_status_ = parser_.error_status();
        body_error_reason_ = parser_.error_reason();
        exchange_.set_body_error(body_error_status_);
        co_return false;
      }
      if (r.status == http::ParseStatus::kComplete) {
        exchange_.set_body_done();
        co_return true;
      }
    }
    if (!until_complete && !discard) {
      // The app waits for *some* bytes: it gets them once the socket has no
      // more right now, or a block is gathered (the read-ahead's bound).
      std::string& held = parser_.body();
      if (!held.empty() || exchange_.has_unread_body()) {
        if (held.size() + exchange_.body_ready() < kStreamBlock && read_now()) continue;
        co_return hand_body(held);
      }
    }
    if (until_complete && !discard && direct_body_) {
      const RecvBody got = recv_body_direct();
      if (got == RecvBody::kFailed) co_return false;
      if (got == RecvBody::kDone) co_return true;
      if (got == RecvBody::kMore) continue;
      if (got == RecvBody::kWait) {
        body_wait_since_ = Clock::now();
        state_ = State::kBody;
        deadline_.reading_body();
        auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_read, kNoThrowWait);
        deadline_.clear();
        state_ = State::kBusy;
        if (ec || closed_) {
          exchange_.set_body_error();
          co_return false;
        }
        continue;
      }
      direct_body_ = false;  // kNoRoom: through the parser's buffer (and spilled)
    }
    if (body_pass_.admitted()) body_wait_since_ = Clock::now();
    state_ = State::kBody;
    deadline_.reading_body();
    const bool ok = co_await read_more();
    deadline_.clear();
    state_ = State::kBusy;
    if (!ok) {
      exchange_.set_body_error();
      co_return false;
    }
  }
}

void Connection::yield_stalled_body(Clock::time_point now) {
  if (state_ == State::kBody && body_pass_.admitted() && now - body_wait_since_ > kBodyStall &&
      server_.body_gate().waiting() > 0) {
    body_pass_.leave();  // its bytes so far stay; the rest is read without a share
  }
}

Connection::RecvBody Connection::recv_body_direct() {
  const uint64_t left = exchange_.body_left();
  char* const dst = left > 0 && !closed_ ? exchange_.body_room(static_cast<size_t>(left)) : nullptr;
  if (dst == nullptr) return RecvBody::kNoRoom;
  // Never past the body: the next request's bytes belong to input_.
  const ssize_t n = ::recv(socket_.native_handle(), dst, static_cast<size_t>(left), MSG_DONTWAIT);
  if (n < 0 && errno == EINTR) return RecvBody::kMore;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return RecvBody::kWait;
  if (n <= 0) {
    exchange_.set_body_error();  // closed or reset mid-body
    return RecvBody::kFailed;
  }
  // The parser counts them (and sees the body's end) without a copy.
  parser_.keep_body(false);
  const http::ParseResult r = parser_.feed(std::string_view(dst, static_cast<size_t>(n)));
  parser_.keep_body(true);
  exchange_.body_filled(static_cast<size_t>(n));
  if (r.status == http::ParseStatus::kError) {
    body_error_status_ = parser_.error_status();
    body_error_reason_ = parser_.error_reason();
    exchange_.set_body_error(body_error_status_);
    return RecvBody::kFailed;
  }
  if (r.status == http::ParseStatus::kComplete) {
    exchange_.set_body_done();
    return RecvBody::kDone;
  }
  return RecvBody::kMore;
}

asio::awaitable<bool> Connection::read_body_into() {
  char* const dst = exchange_.direct_dst();
  const size_t cap = exchange_.direct_cap();
  size_t filled = 0;
  bool ok = true;
  // What the parser made of the bytes it was fed: the body goes on, is
  // complete, or is broken (its status for the exchange).
  enum class Fed { kMore, kDone, kFailed };
  auto settle = [this](const http::ParseResult& r) {
    if (r.status == http::ParseStatus::kError) {
      body_error_status_ = parser_.error_status();
      body_error_reason_ = parser_.error_reason();
      exchange_.set_body_error(body_error_status_);
      return Fed::kFailed;
    }
    if (r.status != http::ParseStatus::kComplete) return Fed::kMore;
    exchange_.set_body_done();
    return Fed::kDone;
  };
  for (;;) {
    if (!input_.empty()) {
      // Bytes read with the head (or before): through the parser's buffer.
      const http::ParseResult r = parser_.feed(input_.unread());
      input_.consume(r.consumed);
      std::string& bytes = parser_.body();
      const size_t n = std::min(bytes.size(), cap - filled);
      std::memcpy(dst + filled, bytes.data(), n);
      filled += n;
      bytes.erase(0, n);
      if (!bytes.empty() && !hand_body(bytes)) {  // past the buffer: the next read's
        ok = false;
        break;
      }
      if (const Fed f = settle(r); f != Fed::kMore) {
        ok = f == Fed::kDone;
        break;
      }
      continue;
    }
    if (filled == cap) break;
    // Never past the body: the next request's bytes belong to input_.
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(cap - filled, exchange_.body_left() - filled));
    if (want == 0) break;  // (the parser has seen the end already)
    if (closed_) {
      exchange_.set_body_error();
      ok = false;
      break;
    }
    const ssize_t n = ::recv(socket_.native_handle(), dst + filled, want, MSG_DONTWAIT);
    if (n > 0) {
      // The parser counts them (and sees the body's end) without a copy.
      parser_.keep_body(false);
      const http::ParseResult r = parser_.feed(std::string_view(dst + filled, static_cast<size_t>(n)));
      parser_.keep_body(true);
      filled += static_cast<size_t>(n);
      if (const Fed f = settle(r); f != Fed::kMore) {
        ok = f == Fed::kDone;
        break;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (filled > 0) break;  // the app gets what came; the rest on its next read
      state_ = State::kBody;
      deadline_.reading_body();
      auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_read, kNoThrowWait);
      deadline_.clear();
      state_ = State::kBusy;
      if (!ec) continue;
    }
    exchange_.set_body_error();  // closed, reset or timed out
    ok = false;
    break;
  }
  exchange_.filled_direct(filled);
  co_return ok;
}

bool Connection::run_app_inline() {
  server_.request_started();
  exchange_.run(server_.app());
  if (!exchange_.finished()) return false;
  writer_.outbox().append(exchange_.out());
  return true;
}

asio::awaitable<bool> Connection::run_app_pooled() {
  server_.request_started();
  const Server::PooledRequest pooled(server_);
  if (AsyncApplication* async = server_.app().async(); async != nullptr) {
    async->submit(exchange_);
  } else {
    server_.pool().submit(&exchange_);
  }
  co_return co_await serve_app();
}

asio::awaitable<bool> Connection::serve_app() {
  bool ok = true;
  bool ack_owed = false;  // a flush waits for the outbox to drop to its bound
  AsyncApplication* async = server_.app().async();
  bool peer_settled = false;  // async: the app was told the client left, or it sent more
  peer_readable_ = false;
  for (;;) {
    // An async app's request may run as long as it likes: the client going
    // away is news for it (the body read and writes see it themselves).
    if (async != nullptr && !peer_settled && exchange_.body_done() && async->wants_disconnect()) {
      watch_peer();
    }
    co_await wake_.wait();
    if (peer_readable_) {
      peer_readable_ = false;
      // Pipelined bytes: the client is there (and not watched further).
      if (async != nullptr && !peer_settled && peer_closed()) {
        peer_settled = true;
        async->disconnected(exchange_);
      } else if (!closed_ && input_pending()) {
        peer_settled = true;
      }
    }
    // Woken by the app or by the socket: write what the client takes.
    Outbox& outbox = writer_.outbox();
    if (ok && !outbox.empty()) ok = writer_.pump() != Outbox::Send::kFailed;
    if (ack_owed && (!ok || outbox.size() <= Outbox::kBound)) {
      ack_owed = false;
      exchange_.ack(ok);
    }
    if (ok && !outbox.empty()) writer_.watch_writable();
    switch (exchange_.take_op()) {
      case Exchange::Op::kNone:
        break;
      case Exchange::Op::kFlush:
        // The app goes on at once unless the client left over the bound
        // unread; the loop writes the rest.
        if (ok) {
          outbox.append(exchange_.out());
          ok = writer_.pump() != Outbox::Send::kFailed;
        }
        exchange_.out().clear();
        if (!ok || outbox.size() <= Outbox::kBound) {
          exchange_.ack(ok);
        } else {
          ack_owed = true;
          writer_.watch_writable();
        }
        break;
      case Exchange::Op::kSendFile:
        ok = ok && co_await writer_.write_all(exchange_.out());
        exchange_.out().clear();
        ok = ok && co_await writer_.send_file(exchange_.file());
        exchange_.ack(ok);
        break;
      case Exchange::Op::kReadBody:
        if (ok && exchange_.expect_continue_pending()) {
          ok = co_await writer_.write_all("HTTP/1.1 100 Continue\r\n\r\n");
          exchange_.mark_100_sent();
        }
        if (exchange_.direct_dst() != nullptr) {
          if (ok) {
            co_await read_body_into();
          } else {
            exchange_.filled_direct(0);
          }
        } else if (ok) {
          co_await read_body(false, false);
        }
        // A body error is the app's ClientGone through read(); the ack
        // only fails when the socket itself is unusable.
        exchange_.ack(ok);
        break;
      case Exchange::Op::kFinish:
        // The app thread is free; the caller writes the outbox out.
        if (ok) outbox.append(exchange_.out());
        co_return ok;
      case Exchange::Op::kAbort:
        co_return false;
    }
  }
}

}  // namespace greenfork::worker
