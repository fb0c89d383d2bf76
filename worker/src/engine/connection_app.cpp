// Connection, part 2: a request's body read from the socket into the
// exchange, and the app run on the request (inline, or on the app's threads
// or loop, serving the ops it posts until its last one).
#include "engine/connection.hpp"

namespace greenfork::worker {
namespace {

// After the response, at most this much unread request body is skipped to
// keep the connection; beyond it the connection closes.
constexpr uint64_t kDrainBytes = 256 * 1024;

}  // namespace

asio::awaitable<bool> Connection::read_body(bool until_complete, bool discard) {
  uint64_t drained = 0;
  for (;;) {
    if (!input_.empty()) {
      const http::ParseResult r = parser_.feed(input_.unread());
      input_.consume(r.consumed);
      std::string& bytes = parser_.body();
      if (discard) {
        drained += bytes.size();
        bytes.clear();
        if (drained > kDrainBytes) co_return false;
      } else if (!bytes.empty() &&
                 (!until_complete || r.status != http::ParseStatus::kNeedMore ||
                  bytes.size() >= body_hold_)) {
        // A buffered body up to body_hold_ stays in the parser's buffer
        // until it is whole, then moves to the exchange without a copy.
        if (Status s = exchange_.add_body(bytes); !s.ok()) {
          server_.host().log_error(s.message());
          body_error_status_ = 503;
          body_error_reason_ = "the request body could not be buffered";
          exchange_.set_body_error(body_error_status_);
          co_return false;
        }
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
      // The app waits for *some* bytes: return as soon as there are any.
      if (exchange_.has_unread_body()) co_return true;
    }
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
        if (ok) co_await read_body(false, false);
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
