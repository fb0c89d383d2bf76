// Connection's watch on the client while an async app (ASGI) holds its
// request: the client closing is news the app gets (http.disconnect).
#include <sys/socket.h>

#include <cerrno>

#include "engine/connection.hpp"

namespace greenfork::worker {

void Connection::watch_peer() {
  if (peer_watch_ || closed_) return;
  peer_watch_ = true;
  socket_.async_wait(asio::socket_base::wait_read, [this](const asio::error_code&) {
    peer_watch_ = false;
    peer_readable_ = true;
    wake_.set();
  });
}

bool Connection::peer_closed() {
  if (closed_) return true;
  char byte = 0;
  const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace greenfork::worker
