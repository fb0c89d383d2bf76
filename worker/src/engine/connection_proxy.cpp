// Connection's PROXY protocol step (--proxy-protocol): before the first
// request, on the I/O thread, under --header-timeout.
#include <spdlog/spdlog.h>

#include "engine/connection.hpp"

namespace greenfork::worker {

asio::awaitable<bool> Connection::read_proxy_header() {
  // A unix socket's peer has no address to check: it is a local proxy.
  if (!listener_.unix_socket && !server_.proxy_allow_from().allows(peer_)) {
    spdlog::info("Closing connection from {}: not in --proxy-allow-from", peer_);
    co_return false;
  }
  state_ = State::kHead;
  deadline_.reading_head();
  proxy::ProxyHeaderParser parser(*server_.config().proxy_protocol);
  for (;;) {
    const proxy::ProxyParse r = parser.parse(input_.unread());
    if (r.status == proxy::ProxyParse::kComplete) {
      input_.consume(r.consumed);
      const proxy::ProxyHeader& h = parser.header();
      if (!h.local) {
        peer_ = h.source_addr;
        peer_port_ = h.source_port;
      }
      co_return true;
    }
    if (r.status == proxy::ProxyParse::kError) {
      spdlog::info("Closing connection from {}: {}", peer_, parser.error());
      co_return false;
    }
    if (!co_await read_more()) {
      spdlog::debug("Connection from {} closed or timed out before its PROXY header ended", peer_);
      co_return false;
    }
  }
}

}  // namespace greenfork::worker
