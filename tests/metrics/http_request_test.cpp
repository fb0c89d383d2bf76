// The metrics endpoint's request-head parser and response text.
#include <gtest/gtest.h>

#include <string>

#include "greenfork/arbiter/metrics/http_request.hpp"

namespace greenfork::arbiter {
namespace {

TEST(HttpRequestHead, ParsesMethodPathAndAccept) {
  HttpRequestHead h;
  ASSERT_EQ(parse_request_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nACCEPT: application/openmetrics-text\r\n"
                               "Accept: text/plain\r\n\r\n",
                               &h),
            HeadParse::kGood);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(h.accept, "application/openmetrics-text, text/plain");
  HttpRequestHead lf;
  EXPECT_EQ(parse_request_head("HEAD / HTTP/1.0\n\n", &lf), HeadParse::kGood);
  EXPECT_EQ(lf.version_minor, 0);
}

TEST(HttpRequestHead, NeedMoreBadAndTooLarge) {
  HttpRequestHead h;
  EXPECT_EQ(parse_request_head("GET /metrics HTTP/1.1\r\nHost: a\r\n", &h), HeadParse::kNeedMore);
  for (const char* bad : {"GET /metrics\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
                          "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n",
                          "GET /a b HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n bad: x\r\n\r\n"}) {
    HttpRequestHead b;
    EXPECT_EQ(parse_request_head(bad, &b), HeadParse::kBad) << bad;
  }
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHead, 'a');
  EXPECT_EQ(parse_request_head(huge, &h), HeadParse::kTooLarge);
  EXPECT_EQ(parse_request_head(huge + "\r\n\r\n", &h), HeadParse::kTooLarge);
}

TEST(HttpResponse, SerializesWithLengthAndClose) {
  HttpResponse r{405, "text/plain", "no\n", "GET, HEAD"};
  const std::string get = serialize_response(r, true);
  EXPECT_EQ(get.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(get.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_NE(get.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_NE(get.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(get.substr(get.size() - 7), "\r\n\r\nno\n");
  const std::string head = serialize_response(r, false);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
}

}  // namespace
}  // namespace greenfork::arbiter
