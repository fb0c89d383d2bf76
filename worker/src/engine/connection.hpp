// Connection: one coroutine per client connection, owning its socket, on
// the I/O thread. It reads and parses requests, reads each request body
// (to memory, then a temporary file: BodySpool) before the app runs unless
// request buffering is off, hands the request to the app (or runs an
// inline app itself), performs the app's I/O requests (flush, body read,
// sendfile) and writes responses from its Outbox in order; pipelined
// requests wait in the input buffer until the previous response is out.
//
// An inline app (Application::runs_inline) runs on the I/O thread when the
// request body is buffered and no app thread holds a request, so that a
// sync worker never runs two requests at once.
//
// Timeouts: every socket wait has a deadline (engine/deadline.hpp lists
// them all); the Server's reaper closes a connection whose deadline passed,
// which cancels its pending operation.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/event.hpp"
#include "engine/deadline.hpp"
#include "engine/exchange.hpp"
#include "engine/input_buffer.hpp"
#include "engine/socket_writer.hpp"
#include "engine/server.hpp"
#include "greenfork/worker/http/request_parser.hpp"
#include "tls/tls_stream.hpp"

namespace greenfork::worker::websocket {
class WsSession;
}
namespace greenfork::worker::http2 {
class H2Connection;
}

namespace greenfork::worker {

class Connection final {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(Server& server, asio::generic::stream_protocol::socket socket,
             const asio::generic::stream_protocol::endpoint& peer, const Listener& listener);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Spawned by the accept loop: owns the Connection for its whole life.
  static asio::awaitable<void> serve(Server& server, asio::generic::stream_protocol::socket socket,
                                     asio::generic::stream_protocol::endpoint peer,
                                     const Listener& listener);

  // ---- for the Server (I/O thread) ----
  Clock::time_point deadline() const { return deadline_.at(); }
  // Waiting for a next request with no byte of it received.
  bool idle() const { return state_ == State::kIdle; }
  // Idle after at least one response (a keep-alive connection), since when.
  bool kept_alive() const { return state_ == State::kIdle && requests_ > 0; }
  Clock::time_point idle_since() const { return idle_since_; }
  // Bytes have arrived that the loop has not read yet.
  bool input_pending();
  // Gives back big request/response buffers when idle since before then;
  // true when it did.
  bool release_idle_buffers(Clock::time_point idle_before);
  // When the request being served arrived (only while busy).
  bool busy() const { return state_ == State::kBusy || state_ == State::kBody || state_ == State::kWrite; }
  Clock::time_point request_started() const { return request_started_; }
  void close();
  // A graceful stop: an open WebSocket is closed with 1001 (going away).
  void going_away();
  void shorten_deadline(Clock::time_point t) { deadline_.shorten(t); }
  // The reaper: a buffered body whose sender has been silent for a second
  // while other bodies wait for read-ahead memory gives its share of it up
  // (BodyGate), so stalled uploads never hold the others up for long.
  void yield_stalled_body(Clock::time_point now);

  const std::string& peer() const { return peer_; }

 private:
  enum class State { kIdle, kHead, kBusy, kBody, kWrite, kLinger, kWebSocket };

  asio::awaitable<void> run();
  asio::awaitable<bool> read_more();
  // --proxy-protocol: reads the PROXY header before any other byte; its
  // source address becomes the peer. False: the connection is to close
  // (a peer not in --proxy-allow-from, a bad, missing or cut header).
  asio::awaitable<bool> read_proxy_header();
  // --certfile: the TLS handshake (connection_tls.cpp), under
  // --header-timeout; false: the connection is to close.
  asio::awaitable<bool> start_tls();
  // read_more() over TLS.
  asio::awaitable<bool> read_tls();
  // --protocol uwsgi (connection_uwsgi.cpp): one request packet, its body,
  // the app, the response; then the connection closes.
  asio::awaitable<void> serve_uwsgi(const Exchange::Context& context);
  // --http-protocols with h2 (connection_h2.cpp): h2 chosen by ALPN, or an
  // h2c client preface first on a plain listener (read by the first
  // request's own read: no extra syscall for HTTP/1.1).
  asio::awaitable<bool> speaks_http2();
  asio::awaitable<void> serve_http2();
  // Closing while the client may still be sending (an unread body, a
  // pipelined request) would reset the connection and can destroy the
  // response in the client's kernel: send FIN first and read what comes
  // for a short while (nginx's lingering close).
  asio::awaitable<void> linger();
  // Moves body bytes from the socket into the exchange; false = connection
  // unusable. discard: drop them (draining after the response).
  asio::awaitable<bool> read_body(bool until_complete, bool discard);
  // read_body(): moves the bytes into the exchange; false (the 503 set)
  // when a spilled body cannot be written.
  bool hand_body(std::string& bytes);
  // A read that does not wait (plain sockets): false when the socket has
  // nothing right now.
  bool read_now();
  // read_body() of a buffered Content-Length body on a plain socket: one
  // recv() straight into the exchange's memory, up to the body's end.
  enum class RecvBody { kMore, kDone, kWait, kFailed, kNoRoom };
  RecvBody recv_body_direct();
  // read_body() for the exchange's want_body_into(): a Content-Length body
  // read straight into the app's buffer (input_'s bytes first, through
  // the parser), up to its size, returning once the socket has no more
  // right now; false as read_body().
  asio::awaitable<bool> read_body_into();
  // The exchange's request through the app, inline on this thread (no
  // coroutine frame on the hot path), or handed to the app's threads or
  // loop and served (serve_app) until its last op; false = the connection
  // is unusable.
  bool run_app_inline();
  asio::awaitable<bool> run_app_pooled();
  asio::awaitable<bool> serve_app();
  // An async app's WebSocket upgrade request (connection_ws.cpp): the
  // connection's last use.
  asio::awaitable<void> serve_websocket();
  // Async apps: sets the wake-up Event once the socket is readable, so that
  // a client closing while the app holds its request is seen (http.disconnect).
  void watch_peer();
  // After watch_peer() fired: true when the client has closed or reset the
  // connection (no pipelined bytes pending, a 0-byte peek or an error).
  bool peer_closed();
  asio::awaitable<bool> send_error(int status, std::string_view reason);
  void fill_request(http::RequestHead& head);
  static void wake(void* self);

  Server& server_;
  asio::generic::stream_protocol::socket socket_;
  const Listener& listener_;
  std::string peer_;
  uint16_t peer_port_ = 0;
  http::RequestParser parser_;
  Exchange exchange_;
  Event wake_;
  State state_ = State::kIdle;
  Deadline deadline_;
  Clock::time_point request_started_{};
  Clock::time_point idle_since_{};
  InputBuffer input_;
  SocketWriter writer_;
  std::unique_ptr<tls::TlsStream> tls_;
  std::string tls_subject_;  // the verified client certificate's subject
  bool big_head_ = false;     // a request head past kBigHead was read
  uint64_t requests_ = 0;
  int body_error_status_ = 0;
  std::string body_error_reason_;
  bool closed_ = false;
  bool peer_watch_ = false;     // a watch_peer() wait is pending
  bool peer_readable_ = false;  // it fired since serve_app() last looked
  size_t body_hold_ = 0;        // read_body(): body bytes kept in the parser until whole
  bool direct_body_ = false;    // read_body(): recv_body_direct() while it has room
  BodyGate::Pass body_pass_;    // a large buffered body's share of read-ahead memory
  Clock::time_point body_wait_since_{};  // read_body() waits for the socket since
  std::shared_ptr<websocket::WsSession> ws_session_;  // owns the socket after a 101
  http2::H2Connection* h2_ = nullptr;  // while the connection speaks HTTP/2

  friend class http2::H2Connection;
};

}  // namespace greenfork::worker
