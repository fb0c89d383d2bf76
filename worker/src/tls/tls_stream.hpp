// TlsStream: one connection's TLS state (an OpenSSL SSL on the connection's
// non-blocking socket). It does no waiting: each call makes what progress
// the socket allows and says what it waits for, and the connection's
// coroutine waits for that on the I/O thread (so a slow or stalled client
// costs a coroutine, never a thread).
//
// The SSL reads and writes the socket itself (not through memory buffers,
// as asio::ssl::stream does), so that the engine's non-blocking writer and
// an inline app's blocking writes work unchanged over TLS, and so that the
// kernel's TLS (kTLS) could take over the records.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace greenfork::tls {

class TlsStream {
 public:
  enum class Io { kDone, kWantRead, kWantWrite, kClosed, kFailed };

  // `early`: bytes already read from the socket that belong to the TLS
  // stream (what followed a PROXY header in the same read).
  TlsStream(SSL_CTX* ctx, int fd, std::string_view early);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Io handshake();
  // kDone with n > 0 bytes; kClosed: the client's close_notify (or a
  // ragged EOF when suppressed).
  Io read(char* buf, size_t len, size_t& n);
  // kDone with n > 0 bytes taken.
  Io write(const char* buf, size_t len, size_t& n);
  // Sends close_notify once, without waiting for the client's.
  void shutdown();
  // Decrypted bytes (or a whole record) wait inside OpenSSL.
  bool pending() const;

  // Why the last call failed (for the log).
  const std::string& error() const { return error_; }
  // The verified client certificate's subject (RFC 2253), "" when none.
  std::string peer_subject() const;
  std::string version() const;
  // The protocol ALPN chose ("h2", "http/1.1"), "" when none.
  std::string_view alpn() const;

 private:
  Io result(int ret, const char* what);

  SSL* ssl_ = nullptr;
  std::string error_;
  bool failed_ = false;
};

}  // namespace greenfork::tls
