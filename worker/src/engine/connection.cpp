#include "engine/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <asio/post.hpp>

#include <cerrno>
#include <cstring>

#include "greenfork/http_token.hpp"
#include "greenfork/worker/http/request_target.hpp"
#include "websocket/handshake.hpp"
#include "websocket/session.hpp"

namespace greenfork::worker {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
// Without request buffering, bodies up to this size are still read before
// the app runs (no app-thread wait).
constexpr uint64_t kPrebufferBytes = 64 * 1024;
// Largest request body gathered in the parser's buffer before it moves
// to the exchange (one buffer, no copy).
constexpr uint64_t kMaxHold = 8 * 1024 * 1024;
// Outbox capacity kept between requests.
constexpr size_t kKeptOutbox = 64 * 1024;
// A head this big makes the connection's close worth a malloc_trim.
constexpr size_t kBigHead = 64 * 1024;

// Gunicorn's cap on a whole request head (its max_buffer_headers): every
// field at its longest, plus the request line; 431 beyond. With a limit
// off (0), Gunicorn's defaults bound the total all the same.
size_t head_limit(const http::ParserLimits& limits) {
  const size_t line = limits.request_line != 0 ? limits.request_line : 8190;
  const size_t fields = limits.fields != 0 ? limits.fields : 32768;
  const size_t field = limits.field_size != 0 ? limits.field_size : 8190;
  return line + 2 + fields * (field + 2) + 4;
}

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

}  // namespace

Connection::Connection(Server& server, asio::generic::stream_protocol::socket socket,
                       const asio::generic::stream_protocol::endpoint& peer,
                       const Listener& listener)
    : server_(server),
      socket_(std::move(socket)),
      listener_(listener),
      parser_(server.config().limits),
      wake_(server.io().get_executor()),
      deadline_(server.config()),
      writer_(socket_, wake_, deadline_, server.config().write_timeout) {
  if (!listener_.unix_socket) describe_peer(peer, peer_, peer_port_);
  server_.add(this);
}

Connection::~Connection() {
  close();
  // Big heads and buffers go back to malloc's free lists, where they stay
  // resident until trimmed: the reaper trims after such a burst.
  const bool big = exchange_.release_buffers();
  if (big || big_head_ || writer_.outbox().release_memory(64 * 1024)) server_.memory_freed();
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
  // The write watch's handler touches this frame's Connection: closing
  // cancels it, and its completion is awaited before the frame goes.
  connection.close();
  // So do posted wake-ups of the app's ops, which may still be queued when
  // the op they announce was already taken.
  while (connection.writer_.watching() || connection.peer_watch_ ||
         connection.exchange_.wakes_in_flight() > 0) {
    co_await connection.wake_.wait();
  }
}

bool Connection::release_idle_buffers(Clock::time_point idle_before) {
  if (state_ != State::kIdle || idle_since_ >= idle_before) return false;
  const bool exchange = exchange_.release_buffers();
  const bool outbox = writer_.outbox().release_memory(64 * 1024);
  return exchange || outbox;
}

bool Connection::input_pending() {
  if (closed_) return false;
  if (tls_ && tls_->pending()) return true;
  int n = 0;
  return ::ioctl(socket_.native_handle(), FIONREAD, &n) == 0 && n > 0;
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  // close_notify, when the socket takes it now (RFC 8446 6.1).
  if (tls_) tls_->shutdown();
  asio::error_code ignored;
  socket_.close(ignored);  // also cancels a pending operation
  wake_.set();             // and a wait for the body gate
  going_away();            // a WebSocket's socket is its session's
}

void Connection::wake(void* self) {
  auto* c = static_cast<Connection*>(self);
  asio::post(c->server_.io(), [c] {
    c->wake_.set();
    c->exchange_.wake_ran();
  });
}

asio::awaitable<bool> Connection::read_more() {
  if (closed_) co_return false;
  if (tls_) co_return co_await read_tls();
  size_t room = 0;
  char* space = input_.space(room);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(space, room), kNoThrow);
  if (ec || n == 0) co_return false;
  input_.commit(n);
  co_return true;
}

asio::awaitable<bool> Connection::send_error(int status, std::string_view reason) {
  const std::string response =
      http::error_response(status, reason, parser_.failed_head_request());
  co_return co_await writer_.write_all(response);
}

void Connection::fill_request(http::RequestHead& head) {
  Request& r = exchange_.request;
  // Swapped, not moved: the parser reuses the last request's buffers.
  r.method.swap(head.method);
  r.target.swap(head.target);
  http::TargetParts parts = http::split_request_target(r.target);
  r.path = std::move(parts.path);
  r.query = std::move(parts.query);
  r.http_major = head.http_major;
  r.http_minor = head.http_minor;
  r.headers.swap(head.headers);
  r.content_length = head.content_length;
  r.chunked = head.chunked;
  r.keep_alive = head.keep_alive;
  // Compared before assigned: the same on every request of a connection
  // unless a trusted proxy's headers changed them.
  if (r.remote_addr != peer_) r.remote_addr = peer_;
  r.remote_port = peer_port_;
  if (r.server_name != listener_.host) r.server_name = listener_.host;
  if (r.server_port != listener_.port) r.server_port = listener_.port;
  r.unix_socket = listener_.unix_socket;
  const char* scheme = tls_ ? "https" : "http";
  if (r.url_scheme != scheme) r.url_scheme = scheme;
  if (r.tls_client_subject != tls_subject_) r.tls_client_subject = tls_subject_;
  r.received_at = request_started_;
  r.body = &exchange_;
  server_.proxy_trust().apply(r);
}

asio::awaitable<void> Connection::run() {
  const EngineConfig& config = server_.config();
  AsyncApplication* async = server_.app().async();
  const Exchange::Context context{&Connection::wake, this, &server_.closing(), &server_.host(),
                                  &writer_, async};
  if (config.proxy_protocol && !co_await read_proxy_header()) co_return;
  if (config.tls && !co_await start_tls()) co_return;
  if (config.uwsgi) {
    co_await serve_uwsgi(context);
    co_return;
  }
  if (config.http2 && co_await speaks_http2()) {
    co_await serve_http2();
    co_return;
  }
  if (!config.http1) {
    // --http-protocols h2 only: an HTTP/1.x client is answered once.
    if (!closed_ && co_await send_error(400, "this server speaks HTTP/2 only")) co_await linger();
    co_return;
  }
  for (;;) {
    // 1. A request head (the keep-alive wait included).
    http::ParseResult r{http::ParseStatus::kNeedMore, 0};
    bool head_clock = false;
    size_t head_bytes = 0;
    for (;;) {
      if (!input_.empty()) {
        r = parser_.feed(input_.unread());
        input_.consume(r.consumed);
        if (r.status != http::ParseStatus::kNeedMore) break;
        head_bytes += r.consumed;
        if (head_bytes > kBigHead) big_head_ = true;
        if (head_bytes > head_limit(config.limits)) {
          state_ = State::kWrite;
          if (co_await send_error(431, "request header block too large")) co_await linger();
          co_return;
        }
      }
      if (parser_.idle()) {
        // Even when stopping, an idle connection is not closed at once: its
        // client may have a request on the wire (closing would reset it);
        // that request is served with Connection: close.
        const Clock::time_point now = Clock::now();
        const bool went_idle = state_ != State::kIdle;
        if (went_idle) idle_since_ = now;
        state_ = State::kIdle;
        if (went_idle && requests_ > 0) server_.connection_idle();
        const bool first = requests_ == 0 && !server_.stopping().load();
        deadline_.waiting_for_request(first, now);
      } else {
        state_ = State::kHead;
        if (!head_clock) {
          head_clock = true;
          deadline_.reading_head();
        }
      }
      if (!co_await read_more()) co_return;
    }
    if (r.status == http::ParseStatus::kError) {
      state_ = State::kWrite;
      if (co_await send_error(parser_.error_status(), parser_.error_reason())) co_await linger();
      co_return;
    }
    // An async app's WebSocket (WSGI apps, green ones included, and native
    // apps see a plain request).
    if (async != nullptr && async->takes_websockets() &&
        websocket::is_websocket_upgrade(parser_.head())) {
      co_await serve_websocket();
      co_return;
    }

    // 2. The exchange: the body is read before the app runs (all of it
    // with request buffering, else a small one), so that an app thread
    // never waits on a slow client.
    state_ = State::kBusy;
    deadline_.clear();
    request_started_ = Clock::now();
    exchange_.reset(context, false);
    const bool expect = parser_.head().expect_continue;
    const std::optional<uint64_t> length = parser_.head().content_length;
    fill_request(parser_.head());
    exchange_.allow_direct_body(async != nullptr && !tls_ && !exchange_.request.chunked &&
                                exchange_.request.content_length.has_value());
    body_error_status_ = 0;
    // An async app's body is streamed to it (its receive() pulls, the
    // socket is read a block ahead at most): waiting for a slow client
    // holds no thread there, and buffering would hold each body whole.
    const bool buffer_body = config.request_buffering && async == nullptr;
    if (r.status == http::ParseStatus::kComplete) {
      exchange_.set_body_done();
    } else if (buffer_body || (!expect && length && *length <= kPrebufferBytes)) {
      if (buffer_body) {
        // A large body waits its turn for read-ahead memory (in the socket
        // buffers meanwhile) before its 100 Continue and its first byte.
        if (length && *length > BodyGate::kSmallBody) {
          body_pass_.enter(server_.body_gate(), std::min(*length, config.body_buffer_size), wake_);
          while (!body_pass_.admitted() && !closed_) co_await wake_.wait();
          if (closed_) co_return;
        }
        exchange_.spool_body(config.body_buffer_size, &config.worker_tmp_dir);
        // One buffer for a body of known length kept in memory (capped: a
        // client can claim a length it never sends). On a plain socket the
        // body is read straight into it, else gathered in the parser's.
        const bool in_memory =
            length && *length <= std::min<uint64_t>(config.body_buffer_size, kMaxHold);
        direct_body_ = in_memory && !tls_ && !exchange_.request.chunked;
        body_hold_ = in_memory && !direct_body_ ? static_cast<size_t>(*length) : 0;
        parser_.body().reserve(body_hold_);
        // The client waits for a go-ahead before it sends the body.
        if (expect && !co_await writer_.write_all("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
      }
      if (!co_await read_body(true, false)) {
        // Not held through the error response and the linger.
        if (exchange_.drop_body()) server_.memory_freed();
        body_pass_.leave();
        if (body_error_status_ != 0 &&
            co_await send_error(body_error_status_, body_error_reason_)) {
          co_await linger();
        }
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
    bool ok = run_inline ? run_app_inline() : co_await run_app_pooled();
    // The app is done with the body: its memory goes to the next one.
    if (exchange_.drop_body()) server_.memory_freed();
    body_pass_.leave();
    // The app is done (its thread free): the loop writes what is left.
    ok = ok && co_await writer_.drain();
    // Megabyte buffers go back to malloc after each request, not kept per
    // connection (64 keep-alive clients of a 1 MiB echo held 150 MiB per
    // worker); malloc hands the same memory to the next big request.
    // The reaper trims malloc (at most every 200 ms) after such a request.
    // Looked at only after a big body either way (a hello costs nothing).
    body_hold_ = 0;
    direct_body_ = false;
    const Request& done = exchange_.request;
    if (done.chunked || done.content_length.value_or(0) > kKeptOutbox ||
        exchange_.body_bytes_sent() > kKeptOutbox) {
      bool released = exchange_.release_buffers();
      released = writer_.outbox().release_memory(kKeptOutbox) || released;
      if (parser_.body().capacity() > kKeptOutbox) {
        std::string().swap(parser_.body());
        released = true;
      }
      if (released) server_.memory_freed();
    }
    ++requests_;
    server_.request_finished(exchange_);
    if (!ok) {
      if (!exchange_.committed() && body_error_status_ != 0 &&
          co_await send_error(body_error_status_, body_error_reason_)) {
        co_await linger();
      }
      co_return;
    }
    if (!exchange_.keep_alive()) {
      if (!exchange_.body_done() || !input_.empty() || input_pending()) co_await linger();
      co_return;
    }

    // 4. Skip what the app left of the request body.
    if (!exchange_.body_done() && !co_await read_body(true, true)) {
      co_await linger();
      co_return;
    }
  }
}

asio::awaitable<void> Connection::linger() {
  if (closed_) co_return;
  if (tls_) tls_->shutdown();
  ::shutdown(socket_.native_handle(), SHUT_WR);
  state_ = State::kLinger;
  deadline_.lingering();
  // Whatever arrives is dropped; the client's EOF or the deadline ends it.
  for (;;) {
    const bool more = co_await read_more();  // (GCC 12: no co_await in a loop condition)
    if (!more) break;
    input_.consume(input_.unread().size());
  }
}

}  // namespace greenfork::worker
