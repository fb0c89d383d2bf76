// Connection's switch to HTTP/2 (--http-protocols with h2): by ALPN over
// TLS, or by the h2c client preface on a plain listener. The preface check
// uses the read the first HTTP/1.1 request would make anyway: bytes that
// are not a preface stay in the input buffer for the HTTP/1.1 parser.
#include <cstring>

#include "engine/connection.hpp"
#include "http2/h2_connection.hpp"

namespace greenfork::worker {

asio::awaitable<bool> Connection::speaks_http2() {
  if (tls_) co_return tls_->alpn() == "h2";
  const std::string_view preface = http2::kClientPreface;
  state_ = State::kIdle;
  deadline_.waiting_for_request(true, Clock::now());
  for (;;) {
    const std::string_view in = input_.unread();
    const size_t n = std::min(in.size(), preface.size());
    if (n > 0 && std::memcmp(in.data(), preface.data(), n) != 0) co_return false;
    if (n == preface.size()) co_return true;
    // A client that sent a part of a request and waits: its request line
    // still reaches the HTTP/1.1 parser when the connection closes.
    if (!co_await read_more()) co_return false;
  }
}

asio::awaitable<void> Connection::serve_http2() {
  http2::H2Connection h2(*this);
  h2_ = &h2;
  co_await h2.run();
  h2_ = nullptr;
}

}  // namespace greenfork::worker
