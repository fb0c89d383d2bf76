// tls::build_context and the parsers of Gunicorn's TLS settings: files that
// are missing, not PEM, or a key that is not the certificate's are refused
// with the option, the path and OpenSSL's reason; the context offers what
// the settings ask. Certificates are made here with OpenSSL's API.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tls/tls_context.hpp"

namespace greenfork::tls {
namespace {

namespace fs = std::filesystem;

// A self-signed EC certificate and its key, as PEM files in `dir`.
void write_pair(const fs::path& dir, const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = std::fopen((dir / (name + ".pem")).c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen((dir / (name + ".key")).c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

class TlsContext : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gf-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write_pair(dir_, "a");
    write_pair(dir_, "b");
    std::ofstream(dir_ / "text.pem") << "not PEM at all\n";
    std::ofstream(dir_ / "both.pem") << std::ifstream(dir_ / "a.pem").rdbuf()
                                     << std::ifstream(dir_ / "a.key").rdbuf();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  TlsSettings settings(const std::string& cert, const std::string& key) const {
    TlsSettings s;
    s.certfile = path(cert);
    if (!key.empty()) s.keyfile = path(key);
    return s;
  }
  fs::path dir_;
};

TEST_F(TlsContext, BuildsFromACertificateAndItsKey) {
  auto ctx = build_context(settings("a.pem", "a.key"));
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();
  SSL_CTX* c = (*ctx)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(c), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(c), SSL_VERIFY_NONE);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_NO_RENEGOTIATION, 0u);
  // No --keyfile: the key is read from the certificate file.
  EXPECT_TRUE(build_context(settings("both.pem", "")).ok());
}

TEST_F(TlsContext, RefusesBadFilesWithPathAndReason) {
  EXPECT_EQ(build_context(settings("none.pem", "a.key")).status().message(),
            "--certfile " + path("none.pem") + ": No such file or directory");
  EXPECT_EQ(build_context(settings("text.pem", "a.key")).status().message().rfind(
                "--certfile " + path("text.pem") + ": PEM routines: no start line", 0),
            0u);
  EXPECT_EQ(build_context(settings("a.pem", "none.key")).status().message(),
            "--keyfile " + path("none.key") + ": No such file or directory");
  EXPECT_EQ(build_context(settings("a.pem", "text.pem")).status().message().rfind(
                "--keyfile " + path("text.pem") + ": ", 0),
            0u);
  EXPECT_EQ(build_context(settings("a.pem", "b.key")).status().message(),
            "--keyfile " + path("b.key") + ": x509 certificate routines: key values mismatch");
  EXPECT_EQ(build_context(settings("a.pem", "")).status().message().rfind(
                "--certfile (no --keyfile: its key) " + path("a.pem") + ": ", 0),
            0u);
  TlsSettings s = settings("a.pem", "a.key");
  s.ca_certs = path("text.pem");
  EXPECT_EQ(build_context(s).status().message().rfind("--ca-certs " + path("text.pem") + ": ", 0), 0u);
  s.ca_certs = "";
  s.ciphers = "NO-SUCH-CIPHER";
  EXPECT_EQ(build_context(s).status().message(), "--ciphers 'NO-SUCH-CIPHER': SSL routines: no cipher match");
  // Nothing of this is left in OpenSSL's error queue for the next caller.
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsContext, ClientCertificatesNeedCas) {
  TlsSettings s = settings("a.pem", "a.key");
  s.cert_reqs = CertReqs::kRequired;
  EXPECT_EQ(build_context(s).status().message(),
            "--cert-reqs asks for client certificates: give --ca-certs to verify them");
  s.ca_certs = path("b.pem");
  auto ctx = build_context(s);
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();
  EXPECT_EQ(SSL_CTX_get_verify_mode((*ctx)->native_handle()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  s.cert_reqs = CertReqs::kOptional;
  EXPECT_EQ(SSL_CTX_get_verify_mode((*build_context(s))->native_handle()), SSL_VERIFY_PEER);
}

TEST(TlsSettingsParse, CertReqsAsGunicornAndByName) {
  EXPECT_EQ(*parse_cert_reqs("0"), CertReqs::kNone);
  EXPECT_EQ(*parse_cert_reqs("optional"), CertReqs::kOptional);
  EXPECT_EQ(*parse_cert_reqs("2"), CertReqs::kRequired);
  EXPECT_EQ(*parse_cert_reqs("CERT_REQUIRED"), CertReqs::kRequired);
  EXPECT_EQ(parse_cert_reqs("3").status().message(),
            "--cert-reqs: '3' is not 0/none, 1/optional or 2/required");
}

TEST(TlsSettingsParse, SslVersionAsGunicorn) {
  TlsSettings s;
  ASSERT_TRUE(apply_ssl_version("2", s).ok());
  EXPECT_EQ(s.min_version, TLS1_2_VERSION);
  EXPECT_EQ(s.max_version, 0);
  ASSERT_TRUE(apply_ssl_version("ssl.PROTOCOL_TLS_SERVER", s).ok());
  EXPECT_EQ(s.max_version, 0);
  ASSERT_TRUE(apply_ssl_version("TLSv1_2", s).ok());
  EXPECT_EQ(s.max_version, TLS1_2_VERSION);
  ASSERT_TRUE(apply_ssl_version("PROTOCOL_TLSv1_3", s).ok());
  EXPECT_EQ(s.min_version, TLS1_3_VERSION);
  EXPECT_EQ(apply_ssl_version("TLSv1", s).message().rfind("--ssl-version TLSv1: TLS 1.0 and 1.1", 0), 0u);
  EXPECT_FALSE(apply_ssl_version("4", s).ok());
  EXPECT_FALSE(apply_ssl_version("16", s).ok());
  EXPECT_FALSE(apply_ssl_version("SSLv3", s).ok());
}

}  // namespace
}  // namespace greenfork::tls
