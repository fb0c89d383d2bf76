// Connection's TLS steps (--certfile): the handshake, before the first
// request (after a PROXY header), and reads through the TLS stream. Both
// wait on the I/O thread for what OpenSSL asks (readable or writable), so
// a client stalling mid-handshake costs this coroutine only, and the
// reaper closes it at --header-timeout. A TLS error ends this connection
// (logged at debug: clients probing, scanning or giving up are routine).
#include <asio/ssl/context.hpp>

#include <spdlog/spdlog.h>

#include "engine/connection.hpp"

namespace greenfork::worker {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

asio::awaitable<bool> Connection::start_tls() {
  state_ = State::kHead;
  deadline_.reading_head();
  // Bytes read with a PROXY header that already belong to the TLS stream.
  tls_ = std::make_unique<tls::TlsStream>(server_.config().tls->native_handle(),
                                          socket_.native_handle(), input_.unread());
  input_.consume(input_.unread().size());
  for (;;) {
    const tls::TlsStream::Io io = tls_->handshake();
    if (io == tls::TlsStream::Io::kDone) break;
    if (io == tls::TlsStream::Io::kClosed || io == tls::TlsStream::Io::kFailed) {
      spdlog::debug("TLS handshake with {} failed: {}", peer_,
                    io == tls::TlsStream::Io::kClosed ? "closed" : tls_->error());
      co_return false;
    }
    const auto wait = io == tls::TlsStream::Io::kWantRead ? asio::socket_base::wait_read
                                                          : asio::socket_base::wait_write;
    auto [ec] = co_await socket_.async_wait(wait, kNoThrow);
    if (ec || closed_) {
      spdlog::debug("TLS handshake with {} ended: {}", peer_,
                    closed_ ? "timed out (--header-timeout)" : ec.message());
      co_return false;
    }
  }
  tls_subject_ = tls_->peer_subject();
  writer_.use_tls(tls_.get());
  deadline_.clear();
  co_return true;
}

asio::awaitable<bool> Connection::read_tls() {
  for (;;) {
    size_t room = 0;
    char* space = input_.space(room);
    size_t n = 0;
    const tls::TlsStream::Io io = tls_->read(space, room, n);
    if (io == tls::TlsStream::Io::kDone) {
      input_.commit(n);
      co_return true;
    }
    if (io == tls::TlsStream::Io::kClosed) co_return false;
    if (io == tls::TlsStream::Io::kFailed) {
      spdlog::debug("TLS connection from {}: {}", peer_, tls_->error());
      co_return false;
    }
    const auto wait = io == tls::TlsStream::Io::kWantRead ? asio::socket_base::wait_read
                                                          : asio::socket_base::wait_write;
    auto [ec] = co_await socket_.async_wait(wait, kNoThrow);
    if (ec || closed_) co_return false;
  }
}

}  // namespace greenfork::worker
