#include "tls/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tls/tls_context.hpp"

namespace greenfork::tls {

TlsStream::TlsStream(SSL_CTX* ctx, int fd, std::string_view early) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) throw std::runtime_error("SSL_new: " + openssl_error("out of memory"));
  if (early.empty()) {
    SSL_set_fd(ssl_, fd);
  } else {
    // Reads start with the early bytes (a buffering BIO holding them, on
    // the socket); writes go straight to the socket.
    BIO* socket_in = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO* buffered = BIO_new(BIO_f_buffer());
    BIO* out = BIO_new_socket(fd, BIO_NOCLOSE);
    if (socket_in == nullptr || buffered == nullptr || out == nullptr ||
        BIO_set_buffer_read_data(buffered, const_cast<char*>(early.data()),
                                 static_cast<long>(early.size())) != 1) {
      BIO_free(socket_in);
      BIO_free(buffered);
      BIO_free(out);
      SSL_free(ssl_);
      throw std::runtime_error("TLS BIO: " + openssl_error("out of memory"));
    }
    SSL_set_bio(ssl_, BIO_push(buffered, socket_in), out);
  }
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream::Io TlsStream::result(int ret, const char* what) {
  const int e = SSL_get_error(ssl_, ret);
  switch (e) {
    case SSL_ERROR_WANT_READ: return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE: return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: return Io::kClosed;
    case SSL_ERROR_SYSCALL: {
      // No more error detail: the peer reset or the socket failed.
      const int saved = errno;
      error_ = std::string(what) + ": " + openssl_error(saved != 0 ? std::strerror(saved) : "unexpected EOF");
      break;
    }
    default:
      error_ = std::string(what) + ": " + openssl_error("TLS error");
      break;
  }
  // After a fatal error OpenSSL must not send close_notify (RFC 8446 6.2).
  failed_ = true;
  return Io::kFailed;
}

TlsStream::Io TlsStream::handshake() {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Io::kDone : result(ret, "handshake");
}

TlsStream::Io TlsStream::read(char* buf, size_t len, size_t& n) {
  ERR_clear_error();
  n = 0;
  const int ret = SSL_read_ex(ssl_, buf, len, &n);
  return ret == 1 ? Io::kDone : result(ret, "read");
}

TlsStream::Io TlsStream::write(const char* buf, size_t len, size_t& n) {
  ERR_clear_error();
  n = 0;
  const int ret = SSL_write_ex(ssl_, buf, len, &n);
  return ret == 1 ? Io::kDone : result(ret, "write");
}

void TlsStream::shutdown() {
  if (failed_ || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0 || !SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsStream::pending() const { return SSL_has_pending(ssl_) == 1; }

std::string TlsStream::peer_subject() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK) return "";
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr) return "";
  X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string out(data, static_cast<size_t>(len > 0 ? len : 0));
  BIO_free(mem);
  return out;
}

std::string TlsStream::version() const { return SSL_get_version(ssl_); }

std::string_view TlsStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return {reinterpret_cast<const char*>(data), data != nullptr ? len : 0};
}

}  // namespace greenfork::tls
