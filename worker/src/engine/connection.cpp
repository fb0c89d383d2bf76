#include "engine/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <asio/post.hpp>
#include <asio/write.hpp>

#include <cerrno>
#include <cstring>

#include "greenfork/http_token.hpp"
#include "greenfork/worker/http/request_target.hpp"

namespace greenfork::worker {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr size_t kInitialBuffer = 8 * 1024;
constexpr size_t kMaxBuffer = 64 * 1024;
// Bodies up to this size are read before the app runs (no app-thread wait).
constexpr uint64_t kPrebufferBytes = 64 * 1024;
// After the response, at most this much unread request body is skipped to
// keep the connection; beyond it the connection closes.
constexpr uint64_t kDrainBytes = 256 * 1024;

void describe_peer(const asio::generic::stream_protocol::endpoint& peer, std::string& host,
                   uint16_t& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (peer.data()->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(peer.data());
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
    host = text;
  } else if (peer.data()->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer.data());
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
    host = text;
  }
}

// Waits until fd takes more bytes; false once `deadline` passes.
bool wait_writable(int fd, Connection::Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - Connection::Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (n > 0) return (p.revents & (POLLERR | POLLNVAL)) == 0;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Blocking output for an inline app: calls step(bytes left) (one
// non-blocking send: bytes written, or -1 with errno) until `left` bytes are
// out; false on an error or when the socket takes nothing for `idle_limit`.
template <typename Step>
bool write_blocking(int fd, std::chrono::milliseconds idle_limit, uint64_t left, Step step) {
  Connection::Clock::time_point deadline = Connection::Clock::now() + idle_limit;
  while (left > 0) {
    const ssize_t n = step(left);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      deadline = Connection::Clock::now() + idle_limit;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_writable(fd, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Connection::Connection(Server& server, asio::generic::stream_protocol::socket socket,
                       const asio::generic::stream_protocol::endpoint& peer,
                       const Listener& listener)
    : server_(server),
      socket_(std::move(socket)),
      listener_(listener),
      parser_(server.config().limits),
      wake_(server.io().get_executor()) {
  if (!listener_.unix_socket) describe_peer(peer, peer_, peer_port_);
  server_.add(this);
}

Connection::~Connection() {
  close();
  server_.remove(this);
}

asio::awaitable<void> Connection::serve(Server& server,
                                        asio::generic::stream_protocol::socket socket,
                                        asio::generic::stream_protocol::endpoint peer,
                                        const Listener& listener) {
  Connection connection(server, std::move(socket), peer, listener);
  try {
    co_await connection.run();
  } catch (const std::exception&) {
    // A failed socket operation or allocation: the connection just ends.
  }
}

bool Connection::release_idle_buffers(Clock::time_point idle_before) {
  return state_ == State::kIdle && idle_since_ < idle_before && exchange_.release_buffers();
}

bool Connection::input_pending() {
  if (closed_) return false;
  int n = 0;
  return ::ioctl(socket_.native_handle(), FIONREAD, &n) == 0 && n > 0;
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ignored;
  socket_.close(ignored);  // also cancels a pending operation
}

void Connection::wake(void* self) {
  auto* c = static_cast<Connection*>(self);
  asio::post(c->server_.io(), [c] { c->wake_.set(); });
}

asio::awaitable<bool> Connection::read_more() {
  if (closed_) co_return false;
  if (pos_ == end_) pos_ = end_ = 0;
  if (!buf_) {
    cap_ = kInitialBuffer;
    buf_ = std::make_unique<char[]>(cap_);
  } else if (end_ == cap_) {
    if (pos_ > 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == cap_) {
      const size_t cap = cap_ * 2;
      auto bigger = std::make_unique<char[]>(cap);
      std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
  }
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf_.get() + end_, cap_ - end_),
                                                  kNoThrow);
  if (ec || n == 0) co_return false;
  end_ += n;
  if (end_ == cap_ && cap_ < kMaxBuffer) {
    // A full read: the client sends fast, let the next read take more.
    const size_t cap = cap_ * 2;
    auto bigger = std::make_unique<char[]>(cap);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
  co_return true;
}

asio::awaitable<bool> Connection::write_all(std::string_view data) {
  if (closed_) co_return false;
  if (data.empty()) co_return true;
  const State before = state_;
  state_ = State::kWrite;
  deadline_ = Clock::now() + server_.config().write_timeout;
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                            kNoThrow);
  (void)n;
  deadline_ = Clock::time_point::max();
  state_ = before;
  co_return !ec;
}

asio::awaitable<bool> Connection::send_file_slice(const Exchange::FileSlice& file) {
  off_t offset = file.offset;
  uint64_t left = file.count;
  const State before = state_;
  state_ = State::kWrite;
  bool ok = true;
  while (left > 0 && ok && !closed_) {
    const ssize_t n = ::sendfile(socket_.native_handle(), file.fd, &offset,
                                 static_cast<size_t>(std::min<uint64_t>(left, 1 << 30)));
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      deadline_ = Clock::now() + server_.config().write_timeout;
      auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_write, kNoThrow);
      ok = !ec;
      continue;
    }
    ok = false;  // error, or the file is shorter than promised
  }
  deadline_ = Clock::time_point::max();
  state_ = before;
  co_return ok && left == 0;
}

bool Connection::write_now(std::string_view data) {
  if (closed_) return false;
  return write_blocking(socket_.native_handle(), server_.config().write_timeout, data.size(),
                        [&](uint64_t) {
                          const ssize_t n = ::send(socket_.native_handle(), data.data(),
                                                   data.size(), MSG_NOSIGNAL);
                          if (n > 0) data.remove_prefix(static_cast<size_t>(n));
                          return n;
                        });
}

bool Connection::send_file_now(const Exchange::FileSlice& file) {
  if (closed_) return false;
  off_t offset = file.offset;
  // A short file ends in a 0 return: a failure, as the length was promised.
  return write_blocking(socket_.native_handle(), server_.config().write_timeout, file.count,
                        [&](uint64_t left) {
                          return ::sendfile(socket_.native_handle(), file.fd, &offset,
                                            static_cast<size_t>(std::min<uint64_t>(left, 1 << 30)));
                        });
}

asio::awaitable<void> Connection::send_error(int status, std::string_view reason) {
  const std::string response =
      http::error_response(status, reason, parser_.failed_head_request());
  co_await write_all(response);
}

void Connection::fill_request(http::RequestHead& head) {
  Request& r = exchange_.request;
  r.method = std::move(head.method);
  r.target = std::move(head.target);
  http::TargetParts parts = http::split_request_target(r.target);
  r.path = std::move(parts.path);
  r.query = std::move(parts.query);
  r.http_major = head.http_major;
  r.http_minor = head.http_minor;
  r.headers = std::move(head.headers);
  r.content_length = head.content_length;
  r.chunked = head.chunked;
  r.keep_alive = head.keep_alive;
  r.remote_addr = peer_;
  r.remote_port = peer_port_;
  r.server_name = listener_.host;
  r.server_port = listener_.port;
  r.unix_socket = listener_.unix_socket;
  r.url_scheme = "http";
  r.received_at = request_started_;
  r.body = &exchange_;
  if (server_.trusted_proxy(peer_, listener_.unix_socket)) {
    if (const Header* proto = r.find_header("x-forwarded-proto")) {
      const std::string_view v = http_token::trim(proto->value);
      if (v == "https" || v == "HTTPS") r.url_scheme = "https";
    }
    if (const Header* xff = r.find_header("x-forwarded-for")) {
      std::string_view v = xff->value;
      const size_t comma = v.rfind(',');
      if (comma != std::string_view::npos) v.remove_prefix(comma + 1);
      v = http_token::trim(v);
      if (!v.empty()) {
        r.remote_addr.assign(v);
        r.remote_port = 0;
      }
    }
  }
}

asio::awaitable<bool> Connection::read_body(bool until_complete, bool discard) {
  uint64_t drained = 0;
  for (;;) {
    if (pos_ < end_) {
      const http::ParseResult r = parser_.feed({buf_.get() + pos_, end_ - pos_});
      pos_ += r.consumed;
      std::string& bytes = parser_.body();
      if (discard) {
        drained += bytes.size();
        bytes.clear();
        if (drained > kDrainBytes) co_return false;
      } else if (!bytes.empty()) {
        exchange_.add_body(bytes);
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
    deadline_ = Clock::now() + server_.config().body_timeout;
    const bool ok = co_await read_more();
    deadline_ = Clock::time_point::max();
    state_ = State::kBusy;
    if (!ok) {
      exchange_.set_body_error();
      co_return false;
    }
  }
}

asio::awaitable<bool> Connection::serve_app() {
  bool ok = true;
  for (;;) {
    co_await wake_.wait();
    switch (exchange_.take_op()) {
      case Exchange::Op::kNone:
        break;
      case Exchange::Op::kFlush:
        ok = ok && co_await write_all(exchange_.out());
        exchange_.out().clear();
        exchange_.ack(ok);
        break;
      case Exchange::Op::kSendFile:
        ok = ok && co_await write_all(exchange_.out());
        exchange_.out().clear();
        ok = ok && co_await send_file_slice(exchange_.file());
        exchange_.ack(ok);
        break;
      case Exchange::Op::kReadBody:
        if (ok && exchange_.expect_continue_pending()) {
          ok = co_await write_all("HTTP/1.1 100 Continue\r\n\r\n");
          exchange_.mark_100_sent();
        }
        if (ok) co_await read_body(false, false);
        // A body error is the app's ClientGone through read(); the ack
        // only fails when the socket itself is unusable.
        exchange_.ack(ok);
        break;
      case Exchange::Op::kFinish:
        ok = ok && co_await write_all(exchange_.out());
        co_return ok;
      case Exchange::Op::kAbort:
        co_return false;
    }
  }
}

asio::awaitable<void> Connection::run() {
  const EngineConfig& config = server_.config();
  const Exchange::Context context{&Connection::wake, this, &server_.stopping(), &server_.host(),
                                  this};
  for (;;) {
    // 1. A request head (the keep-alive wait included).
    http::ParseResult r{http::ParseStatus::kNeedMore, 0};
    bool head_clock = false;
    for (;;) {
      if (pos_ < end_) {
        r = parser_.feed({buf_.get() + pos_, end_ - pos_});
        pos_ += r.consumed;
        if (r.status != http::ParseStatus::kNeedMore) break;
      }
      if (parser_.idle()) {
        // Even when stopping, an idle connection is not closed at once: its
        // client may have a request on the wire (closing would reset it);
        // that request is served with Connection: close.
        const Clock::time_point now = Clock::now();
        if (state_ != State::kIdle) idle_since_ = now;
        state_ = State::kIdle;
        const bool first = requests_ == 0 && !server_.stopping().load();
        deadline_ = now + (first ? config.header_timeout : config.keep_alive);
      } else {
        state_ = State::kHead;
        if (!head_clock) {
          head_clock = true;
          deadline_ = Clock::now() + config.header_timeout;
        }
      }
      if (!co_await read_more()) co_return;
    }
    if (r.status == http::ParseStatus::kError) {
      state_ = State::kWrite;
      co_await send_error(parser_.error_status(), parser_.error_reason());
      co_return;
    }

    // 2. The exchange: small bodies are read before the app runs.
    state_ = State::kBusy;
    deadline_ = Clock::time_point::max();
    request_started_ = Clock::now();
    exchange_.reset(context, false);
    const bool expect = parser_.head().expect_continue;
    const std::optional<uint64_t> length = parser_.head().content_length;
    fill_request(parser_.head());
    body_error_status_ = 0;
    if (r.status == http::ParseStatus::kComplete) {
      exchange_.set_body_done();
    } else if (!expect && length && *length <= kPrebufferBytes) {
      if (!co_await read_body(true, false)) {
        if (body_error_status_ != 0) co_await send_error(body_error_status_, body_error_reason_);
        co_return;
      }
    }
    exchange_.set_expects_continue(expect && !exchange_.body_done());
    // Inline only while no app thread holds a request: a sync worker
    // (one app thread) then never runs two at once.
    const bool run_inline =
        server_.app_inline() && exchange_.body_done() && server_.pooled_requests() == 0;
    exchange_.set_inline(run_inline);

    // 3. The app, then the response.
    server_.request_started();
    bool ok = true;
    if (run_inline) {
      exchange_.run(server_.app());
      ok = exchange_.finished() && co_await write_all(exchange_.out());
    } else {
      const Server::PooledRequest pooled(server_);
      server_.pool().submit(&exchange_);
      ok = co_await serve_app();
    }
    ++requests_;
    server_.request_finished(exchange_);
    if (!ok) {
      if (!exchange_.committed() && body_error_status_ != 0) {
        co_await send_error(body_error_status_, body_error_reason_);
      }
      co_return;
    }
    if (!exchange_.keep_alive()) co_return;

    // 4. Skip what the app left of the request body.
    if (!exchange_.body_done() && !co_await read_body(true, true)) co_return;
  }
}

}  // namespace greenfork::worker
