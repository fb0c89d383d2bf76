// TLS settings (Gunicorn's names) and the server context built from them.
// Shared by gworker, which serves with the context, and arbiterd, which
// builds one from the same files before it starts anything, so that a bad
// certificate, key or CA file is refused with its path and OpenSSL's reason:
//
//   tls::TlsSettings s;
//   s.certfile = "/etc/app/cert.pem";
//   auto ctx = tls::build_context(s);
//   if (!ctx.ok()) die(ctx.status().message());
//   // "--certfile /etc/app/cert.pem: PEM_read_bio: no start line"
//
// The context offers TLS 1.2 and 1.3 (TLS 1.2 is the floor unless
// --ssl-version pins one version), ALPN "h2" (when HTTP/2 is on) and
// "http/1.1", session tickets, and client certificates as
// --cert-reqs asks (verified against --ca-certs).
#pragma once

#include <asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "greenfork/status.hpp"

namespace greenfork::tls {

// Gunicorn's cert_reqs (Python's ssl.CERT_NONE/OPTIONAL/REQUIRED).
enum class CertReqs { kNone = 0, kOptional = 1, kRequired = 2 };

struct TlsSettings {
  std::string certfile;  // PEM chain; holds the key too when keyfile is ""
  std::string keyfile;
  std::string ca_certs;  // PEM CAs that client certificates are verified against
  CertReqs cert_reqs = CertReqs::kNone;
  std::string ciphers;   // OpenSSL cipher list for TLS <= 1.2 ("": OpenSSL's default)
  int min_version = 0;   // TLS1_2_VERSION unless --ssl-version pins one
  int max_version = 0;   // 0: the highest OpenSSL has
  // A client closing without close_notify ends the connection as an EOF
  // (Gunicorn's default); off, it is reported as a TLS error.
  bool suppress_ragged_eofs = true;
  // ALPN offers (--http-protocols): h2 first when on, then http/1.1.
  bool alpn_h2 = false;
  bool alpn_http11 = true;

  bool enabled() const { return !certfile.empty(); }
};

// "0"/"none", "1"/"optional", "2"/"required" (any case).
StatusOr<CertReqs> parse_cert_reqs(std::string_view text);

// Gunicorn's ssl_version: a name of Python's ssl.PROTOCOL_* (with or without
// the prefix) or its number. TLS, SSLv23 and TLS_SERVER (2, 17: Gunicorn's
// default) negotiate the highest version from the floor of TLS 1.2;
// TLSv1_2 (5) pins TLS 1.2; TLSv1_3 pins TLS 1.3. TLSv1 and TLSv1_1 are
// refused (RFC 8996), TLS_CLIENT is a client method.
Status apply_ssl_version(std::string_view text, TlsSettings& settings);

// The first errors OpenSSL queued, "lib: reason" joined by "; " (and the
// queue cleared); `fallback` when there were none.
std::string openssl_error(std::string_view fallback);

// Reads the files and builds the server context; the error names the
// option, the path and the reason.
StatusOr<std::shared_ptr<asio::ssl::context>> build_context(const TlsSettings& settings);

// A context the config file's ssl_context hook built (an OpenSSL SSL_CTX*,
// from Python's ssl.SSLContext), with what the engine needs applied on top
// (partial writes, read-ahead, ALPN, tickets-only resumption); the hook's
// versions, ciphers and verify mode stay. Takes a reference of its own.
// An error when it has no certificate and key.
StatusOr<std::shared_ptr<asio::ssl::context>> adopt_context(void* ssl_ctx, const TlsSettings& settings);

// Session tickets encrypted with these keys (160 hex digits: the 80 bytes of
// key name, HMAC and AES keys OpenSSL takes), shared by the workers of one
// arbiterd; without, each process has its own random keys.
Status use_ticket_keys(asio::ssl::context& context, std::string_view hex);

}  // namespace greenfork::tls
