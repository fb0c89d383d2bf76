// The opening handshake over heads parsed by the engine's RequestParser:
// RFC 6455's accept-key example, every refusal, subprotocol offers and the
// 101 response head.
#include <gtest/gtest.h>

#include <string>

#include "greenfork/worker/http/request_parser.hpp"
#include "websocket/handshake.hpp"

namespace greenfork::test {
namespace {

using namespace greenfork::worker::websocket;
using greenfork::worker::http::ParseStatus;
using greenfork::worker::http::RequestHead;
using greenfork::worker::http::RequestParser;

constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// A head as the engine would see it; `fields` are header lines with CRLF.
RequestHead head_of(const std::string& request_line, const std::string& fields) {
  RequestParser parser;
  const std::string raw = request_line + "\r\nHost: example.com\r\n" + fields + "\r\n";
  auto r = parser.feed(raw);
  EXPECT_EQ(r.status, ParseStatus::kComplete) << parser.error_reason() << "\n" << raw;
  return parser.head();
}

std::string good_fields(const std::string& extra = "") {
  return std::string("Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n") +
         "Sec-WebSocket-Key: " + kKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra;
}

TEST(Handshake, AcceptKeyFromRfc6455) {
  EXPECT_EQ(accept_key(kKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, ValidRequest) {
  RequestHead head = head_of("GET /chat HTTP/1.1",
                             good_fields("Sec-WebSocket-Protocol: chat, superchat\r\n"
                                         "Sec-WebSocket-Protocol: v2.json\r\n"
                                         "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                         "Sec-WebSocket-Extensions: x-foo; a=1\r\n"));
  ASSERT_TRUE(is_websocket_upgrade(head));
  UpgradeCheck c = check_upgrade_request(head);
  ASSERT_TRUE(c.ok()) << c.reason;
  EXPECT_EQ(c.request.key, kKey);
  EXPECT_EQ(c.request.subprotocols, (std::vector<std::string>{"chat", "superchat", "v2.json"}));
  EXPECT_EQ(c.request.extensions, "permessage-deflate, x-foo; a=1");
}

TEST(Handshake, CaseInsensitiveTokens) {
  RequestHead head = head_of("GET / HTTP/1.1",
                             std::string("Upgrade: WebSocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: ") +
                                 kKey + "\r\nSec-WebSocket-Version: 13\r\n");
  EXPECT_TRUE(check_upgrade_request(head).ok());
}

TEST(Handshake, PlainRequestsAreNotUpgrades) {
  EXPECT_FALSE(is_websocket_upgrade(head_of("GET / HTTP/1.1", "")));
  EXPECT_FALSE(is_websocket_upgrade(head_of("GET / HTTP/1.1", "Upgrade: h2c\r\nConnection: Upgrade\r\n")));
}

struct Refusal {
  const char* line;
  std::string fields;
  int status;
  const char* why;
};

TEST(Handshake, Refusals) {
  const std::string key = std::string("Sec-WebSocket-Key: ") + kKey + "\r\n";
  const std::string up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  const Refusal cases[] = {
      {"POST / HTTP/1.1", good_fields("Content-Length: 0\r\n"), 400, "GET"},
      {"GET / HTTP/1.0", good_fields(), 400, "HTTP/1.1"},
      {"GET / HTTP/1.1", "Upgrade: websocket\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "Connection"},
      {"GET / HTTP/1.1", "Upgrade: websocket\r\nConnection: close\r\n" + key + "Sec-WebSocket-Version: 13\r\n",
       400, "Connection"},
      {"GET / HTTP/1.1", "Connection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "Upgrade"},
      {"GET / HTTP/1.1", up + key, 400, "Sec-WebSocket-Version is missing"},
      {"GET / HTTP/1.1", up + key + "Sec-WebSocket-Version: 8\r\n", 426, "version 13"},
      {"GET / HTTP/1.1", up + key + "Sec-WebSocket-Version: 13, 8\r\n", 426, "version 13"},
      {"GET / HTTP/1.1", up + key + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n", 426,
       "version 13"},
      {"GET / HTTP/1.1", up + "Sec-WebSocket-Version: 13\r\n", 400, "one Sec-WebSocket-Key"},
      {"GET / HTTP/1.1", up + key + key + "Sec-WebSocket-Version: 13\r\n", 400, "one Sec-WebSocket-Key"},
      {"GET / HTTP/1.1", up + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\nSec-WebSocket-Version: 13\r\n",
       400, "16-byte nonce"},
      {"GET / HTTP/1.1", up + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==AA\r\nSec-WebSocket-Version: 13\r\n",
       400, "16-byte nonce"},
      {"GET / HTTP/1.1", up + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub2!jZQ==\r\nSec-WebSocket-Version: 13\r\n",
       400, "16-byte nonce"},
      {"GET / HTTP/1.1", up + "Sec-WebSocket-Key: aGVsbG8=\r\nSec-WebSocket-Version: 13\r\n", 400,
       "16-byte nonce"},
      {"GET / HTTP/1.1", good_fields("Sec-WebSocket-Protocol: chat, \"quoted\"\r\n"), 400,
       "Sec-WebSocket-Protocol"},
  };
  for (const Refusal& r : cases) {
    SCOPED_TRACE(std::string(r.line) + "\n" + r.fields);
    UpgradeCheck c = check_upgrade_request(head_of(r.line, r.fields));
    EXPECT_EQ(c.status, r.status) << c.reason;
    EXPECT_NE(c.reason.find(r.why), std::string::npos) << c.reason;
    const bool version_header = !c.headers.empty() && c.headers[0].name == "Sec-WebSocket-Version" &&
                                c.headers[0].value == "13";
    EXPECT_EQ(version_header, std::string(r.why).find("ersion") != std::string::npos);
  }
}

TEST(Handshake, AcceptResponseHead) {
  UpgradeRequest req{kKey, {"chat", "superchat"}, ""};
  AcceptOptions options;
  options.subprotocol = "superchat";
  options.extensions = "permessage-deflate; client_no_context_takeover";
  options.headers = {{"Set-Cookie", "a=b"},
                     {"connection", "close"},
                     {"Sec-WebSocket-Protocol", "chat"},
                     {"Content-Length", "0"},
                     {"X-Extra", " spaced "}};
  StatusOr<std::string> head = build_accept_response(req, options);
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(*head,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: superchat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"
            "Set-Cookie: a=b\r\n"
            "X-Extra: spaced\r\n"
            "\r\n");
  StatusOr<std::string> plain = build_accept_response(req, {});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(Handshake, AcceptResponseErrors) {
  UpgradeRequest req{kKey, {"chat"}, ""};
  AcceptOptions not_offered;
  not_offered.subprotocol = "mqtt";
  EXPECT_EQ(build_accept_response(req, not_offered).status().code(), StatusCode::kInvalidArgument);
  AcceptOptions bad_value;
  bad_value.headers = {{"X-A", "a\r\nInjected: 1"}};
  EXPECT_FALSE(build_accept_response(req, bad_value).ok());
  AcceptOptions bad_name;
  bad_name.headers = {{"X A", "1"}};
  EXPECT_FALSE(build_accept_response(req, bad_name).ok());
}

}  // namespace
}  // namespace greenfork::test
