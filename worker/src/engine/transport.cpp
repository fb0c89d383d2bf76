#include "engine/transport.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "tls/tls_stream.hpp"

namespace greenfork::worker {

ssize_t Transport::send(const char* data, size_t len) const {
  if (tls == nullptr) return ::send(fd, data, len, MSG_NOSIGNAL);
  size_t n = 0;
  switch (tls->write(data, len, n)) {
    case tls::TlsStream::Io::kDone: return static_cast<ssize_t>(n);
    case tls::TlsStream::Io::kWantRead:
    case tls::TlsStream::Io::kWantWrite: errno = EAGAIN; return -1;
    case tls::TlsStream::Io::kClosed:
    case tls::TlsStream::Io::kFailed: break;
  }
  errno = EPIPE;
  return -1;
}

}  // namespace greenfork::worker
