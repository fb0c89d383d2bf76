#include "tls/tls_context.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace greenfork::tls {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// fopen first: "No such file or directory" says more than OpenSSL's
// "system lib".
Status check_readable(const char* option, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::error(std::string(option) + " " + path + ": " + std::strerror(errno));
  std::fclose(f);
  return {};
}

Status file_error(const char* option, const std::string& path, std::string_view fallback) {
  return Status::error(std::string(option) + " " + path + ": " + openssl_error(fallback));
}

// ALPN (RFC 7301): h2 when HTTP/2 is on (--http-protocols) and the client
// offers it, else http/1.1 when the client offers it and HTTP/1.1 is on. A
// client that offers neither is refused with no_application_protocol, as
// the RFC asks, instead of being answered in a protocol it did not ask for.
bool offers(const unsigned char* in, unsigned int inlen, std::string_view protocol,
            const unsigned char** out, unsigned char* outlen) {
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == protocol.size() && std::memcmp(in + i + 1, protocol.data(), len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return true;
    }
    i += 1 + len;
  }
  return false;
}

// What ALPN may choose for a listener (--http-protocols).
struct AlpnChoice {
  bool http11;
  bool h2;
};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* choice = static_cast<const AlpnChoice*>(arg);
  const bool h2 = choice != nullptr && choice->h2;
  const bool h1 = choice == nullptr || choice->http11;
  if (h2 && offers(in, inlen, "h2", out, outlen)) return SSL_TLSEXT_ERR_OK;
  if (h1 && offers(in, inlen, "http/1.1", out, outlen)) return SSL_TLSEXT_ERR_OK;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// What the engine's TLS stream relies on, whoever built the context.
void apply_engine_settings(SSL_CTX* c, const TlsSettings& s) {
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION;
  if (s.suppress_ragged_eofs) options |= SSL_OP_IGNORE_UNEXPECTED_EOF;
  SSL_CTX_set_options(c, options);
  // Partial writes: the outbox sends what the socket takes, and may grow
  // (move) between a blocked SSL_write and its retry. Idle keep-alive
  // connections give their record buffers back.
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  // One read() takes what the socket has, not a record header then its
  // body (half the reads of a handshake; nginx does the same). The bytes
  // read ahead count in SSL_has_pending(), which the connection checks.
  SSL_CTX_set_read_ahead(c, 1);
  // Resumption through tickets only (stateless; OpenSSL's default, keys per
  // worker process): a server-side cache would cost a lookup and an insert
  // per handshake and hold every session in memory. A session id context
  // is required to resume a session whose client certificate was verified.
  static const unsigned char kSessionContext[] = "greenfork";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  // The choice depends on two flags only: one static per combination.
  static const AlpnChoice kChoices[4] = {{false, false}, {true, false}, {false, true}, {true, true}};
  SSL_CTX_set_alpn_select_cb(c, select_alpn,
                             const_cast<AlpnChoice*>(&kChoices[(s.alpn_http11 ? 1 : 0) + (s.alpn_h2 ? 2 : 0)]));
}

}  // namespace

StatusOr<CertReqs> parse_cert_reqs(std::string_view text) {
  const std::string t = lower(text);
  if (t == "0" || t == "none" || t == "cert_none") return CertReqs::kNone;
  if (t == "1" || t == "optional" || t == "cert_optional") return CertReqs::kOptional;
  if (t == "2" || t == "required" || t == "cert_required") return CertReqs::kRequired;
  return Status::error("--cert-reqs: '" + std::string(text) +
                       "' is not 0/none, 1/optional or 2/required");
}

Status apply_ssl_version(std::string_view text, TlsSettings& s) {
  std::string t = lower(text);
  if (t.rfind("ssl.", 0) == 0) t.erase(0, 4);
  if (t.rfind("_sslmethod.", 0) == 0) t.erase(0, 11);
  if (t.rfind("protocol_", 0) == 0) t.erase(0, 9);
  if (t == "2" || t == "17" || t == "tls" || t == "sslv23" || t == "tls_server") {
    s.min_version = TLS1_2_VERSION;
    s.max_version = 0;
  } else if (t == "5" || t == "tlsv1_2") {
    s.min_version = s.max_version = TLS1_2_VERSION;
  } else if (t == "tlsv1_3") {
    s.min_version = s.max_version = TLS1_3_VERSION;
  } else if (t == "3" || t == "4" || t == "tlsv1" || t == "tlsv1_1") {
    return Status::error("--ssl-version " + std::string(text) +
                         ": TLS 1.0 and 1.1 are not offered (RFC 8996); use TLS (1.2 and up) or TLSv1_2");
  } else if (t == "16" || t == "tls_client") {
    return Status::error("--ssl-version " + std::string(text) + ": a client method; use TLS_SERVER");
  } else {
    return Status::error("--ssl-version: '" + std::string(text) +
                         "' is not one of TLS, TLS_SERVER, SSLv23, TLSv1_2, TLSv1_3 (or 2, 17, 5)");
  }
  return {};
}

std::string openssl_error(std::string_view fallback) {
  std::string out;
  int n = 0;
  while (unsigned long e = ERR_get_error()) {
    if (++n > 3) continue;  // the first ones say why; drain the rest
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    if (lib != nullptr) out += std::string(lib) + ": ";
    out += reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(e));
  }
  return out.empty() ? std::string(fallback) : out;
}

Status use_ticket_keys(asio::ssl::context& context, std::string_view hex) {
  unsigned char keys[80];
  if (hex.size() != 2 * sizeof keys) return Status::error("TLS ticket keys: not 160 hex digits");
  for (size_t i = 0; i < sizeof keys; ++i) {
    const int hi = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[2 * i]));
    const int lo = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[2 * i + 1]));
    if (hi < 0 || lo < 0) return Status::error("TLS ticket keys: not 160 hex digits");
    keys[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  const long ok = SSL_CTX_set_tlsext_ticket_keys(context.native_handle(), keys, sizeof keys);
  OPENSSL_cleanse(keys, sizeof keys);
  if (ok != 1) return Status::error("TLS ticket keys: " + openssl_error("refused"));
  return {};
}

StatusOr<std::shared_ptr<asio::ssl::context>> build_context(const TlsSettings& s) {
  ERR_clear_error();
  if (s.certfile.empty()) return Status::error("--keyfile and --ca-certs need --certfile");
  if (s.cert_reqs != CertReqs::kNone && s.ca_certs.empty()) {
    return Status::error("--cert-reqs asks for client certificates: give --ca-certs to verify them");
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, s.min_version != 0 ? s.min_version : TLS1_2_VERSION);
  if (s.max_version != 0) SSL_CTX_set_max_proto_version(c, s.max_version);

  if (Status st = check_readable("--certfile", s.certfile); !st.ok()) return st;
  if (SSL_CTX_use_certificate_chain_file(c, s.certfile.c_str()) != 1) {
    return file_error("--certfile", s.certfile, "not a PEM certificate");
  }
  const std::string& key = s.keyfile.empty() ? s.certfile : s.keyfile;
  const char* key_option = s.keyfile.empty() ? "--certfile (no --keyfile: its key)" : "--keyfile";
  if (Status st = check_readable(key_option, key); !st.ok()) return st;
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return file_error(key_option, key, "not a PEM private key");
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return file_error(key_option, key, "the key does not match the certificate in " + s.certfile);
  }
  if (!s.ca_certs.empty()) {
    if (Status st = check_readable("--ca-certs", s.ca_certs); !st.ok()) return st;
    if (SSL_CTX_load_verify_locations(c, s.ca_certs.c_str(), nullptr) != 1) {
      return file_error("--ca-certs", s.ca_certs, "no PEM certificate");
    }
    // The CAs named in the CertificateRequest, so a client picks its certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_certs.c_str());
    if (names == nullptr) return file_error("--ca-certs", s.ca_certs, "no PEM certificate");
    SSL_CTX_set_client_CA_list(c, names);
  }
  switch (s.cert_reqs) {
    case CertReqs::kNone: SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr); break;
    case CertReqs::kOptional: SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr); break;
    case CertReqs::kRequired:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(c, s.ciphers.c_str()) != 1) {
    return Status::error("--ciphers '" + s.ciphers + "': " + openssl_error("no cipher matches"));
  }
  apply_engine_settings(c, s);
  ERR_clear_error();
  return ctx;
}

StatusOr<std::shared_ptr<asio::ssl::context>> adopt_context(void* native, const TlsSettings& s) {
  SSL_CTX* c = static_cast<SSL_CTX*>(native);
  if (c == nullptr) return Status::error("the ssl_context hook's context is unusable");
  if (SSL_CTX_get0_certificate(c) == nullptr || SSL_CTX_check_private_key(c) != 1) {
    ERR_clear_error();
    return Status::error("the ssl_context hook's context has no certificate and matching key "
                         "(call default_ssl_context_factory() or load_cert_chain())");
  }
  SSL_CTX_up_ref(c);  // the asio context owns this reference
  auto ctx = std::make_shared<asio::ssl::context>(c);
  apply_engine_settings(c, s);
  ERR_clear_error();
  return ctx;
}

}  // namespace greenfork::tls
