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
  int fd = -1;
  tls::TlsStream* tls = nullptr;  // set once the handshake is done

  // Bytes taken (> 0), or -1 with errno: EAGAIN when the socket is full.
  ssize_t send(const char* data, size_t len) const;
};

}  // namespace greenfork::worker
