// Unit tests for the engine's I/O-free pieces: response heads and the
// access log format compiler.
#include <gtest/gtest.h>

#include "engine/access_log.hpp"
#include "http/response_head.hpp"

namespace greenfork::worker {
namespace {

TEST(ResponseHead, DropsHopByHopAndParsesLength) {
  auto head = http::check_app_head(
      200, "", {{"Content-Type", "text/plain"}, {"Connection", "keep-alive, close"},
                {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}});
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->reason, "OK");
  EXPECT_TRUE(head->close);
  ASSERT_EQ(head->headers.size(), 1u);
  EXPECT_EQ(head->headers[0].name, "Content-Type");
  EXPECT_EQ(head->content_length, 5u);
}

TEST(ResponseHead, RefusesInjection) {
  EXPECT_FALSE(http::check_app_head(200, "", {{"X", "a\r\nSet-Cookie: x"}}).ok());
  EXPECT_FALSE(http::check_app_head(200, "", {{"X Y", "a"}}).ok());
  EXPECT_FALSE(http::check_app_head(200, "O\nK", {}).ok());
  EXPECT_FALSE(http::check_app_head(99, "", {}).ok());
  EXPECT_FALSE(http::check_app_head(200, "", {{"Content-Length", "1x"}}).ok());
}

TEST(ResponseHead, SerializesFraming) {
  http::AppHead head;
  head.reason = "OK";
  std::string out;
  http::serialize_head(head, http::Framing::kChunked, 0, false, false, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nServer: greenfork\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  out.clear();
  http::serialize_head(head, http::Framing::kContentLength, 13, true, true, out);
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHead, ErrorResponseCloses) {
  const std::string r = http::error_response(431, "too many headers");
  EXPECT_EQ(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
}

TEST(AccessLogFormat, CompilesGunicornDefault) {
  const auto atoms = AccessLog::compile(AccessLog::kDefaultFormat);
  std::string kinds;
  for (const auto& a : atoms) kinds.push_back(a.kind == 0 ? '_' : a.kind);
  EXPECT_EQ(kinds, "h_l_u_t_r_s_b_f_a_");
}

TEST(AccessLogFormat, HeaderAndEnvAtoms) {
  const auto atoms = AccessLog::compile("%({x-real-ip}i)s %({content-type}o)s %({HOME}e)s %(D)s 100%%");
  ASSERT_EQ(atoms.size(), 8u);
  EXPECT_EQ(atoms[0].kind, 'i');
  EXPECT_EQ(atoms[0].text, "x-real-ip");
  EXPECT_EQ(atoms[2].kind, 'o');
  EXPECT_EQ(atoms[4].kind, 'e');
  EXPECT_EQ(atoms[6].kind, 'D');
  EXPECT_EQ(atoms[7].text, " 100%");
}

}  // namespace
}  // namespace greenfork::worker
