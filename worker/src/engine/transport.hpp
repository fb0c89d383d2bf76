// Transport: where a connection's bytes go, the socket itself or its TLS
// stream over the socket (--certfile). One non-blocking send with send(2)'s
// contract, so the Outbox and the blocking writes of an inline app work the
// same over both.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace greenfork::tls {
class TlsStream;
}

namespace greenfork::worker {

struct Transport {
  // Implicit from a plain socket's fd (NOLINT: by design).
  Transport(int socket_fd, tls::TlsStream* stream = nullptr) : fd(socket_fd), tls(stream) {}

  int fd;
  tls::TlsStream* tls;  // set once the handshake is done

  // Bytes taken (> 0), or -1 with errno: EAGAIN when the socket is full.
  ssize_t send(const char* data, size_t len) const;
};

}  // namespace greenfork::worker
