#include "greenfork/wsgi/environ_prep.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace greenfork::wsgi {
namespace {

using testing::make_request;

std::string value_of(const PreparedEnviron& e, const std::string& key) {
  for (const PreparedHeader& h : e.headers) {
    if (cgi_header_key(h.name) == key) return std::string(h.value());
  }
  return "<absent>";
}

TEST(PercentDecode, DecodesBytesKeepsMalformed) {
  EXPECT_EQ(percent_decode("/a%20b"), "/a b");
  EXPECT_EQ(percent_decode("/%C3%A9"), "/\xC3\xA9");
  EXPECT_EQ(percent_decode("/%2f%2F"), "///");
  EXPECT_EQ(percent_decode("/100%"), "/100%");
  EXPECT_EQ(percent_decode("/%zz%4"), "/%zz%4");
  EXPECT_EQ(percent_decode("/%00x"), std::string("/\0x", 3));
}

TEST(CgiKey, HeadersBecomeCgiNames) {
  EXPECT_EQ(cgi_header_key("User-Agent"), "HTTP_USER_AGENT");
  EXPECT_EQ(cgi_header_key("x-forwarded-for"), "HTTP_X_FORWARDED_FOR");
  EXPECT_EQ(cgi_header_key("Content-Type"), "CONTENT_TYPE");
  EXPECT_EQ(cgi_header_key("content-length"), "CONTENT_LENGTH");
}

TEST(CgiKey, SameKeyWithoutMakingIt) {
  const char* names[] = {"User-Agent", "user-agent", "USER_AGENT", "User-Agents", "Content-Type",
                         "content-type", "Content_Type", "CONTENT-LENGTH", "Content-Length",
                         "Cookie", "cookie", "X-A", "X_a", "x-b", ""};
  for (const char* a : names) {
    for (const char* b : names) {
      EXPECT_EQ(same_cgi_key(a, b), cgi_header_key(a) == cgi_header_key(b)) << a << " / " << b;
    }
  }
}

TEST(ScriptName, Normalized) {
  EXPECT_EQ(normalize_script_name(""), "");
  EXPECT_EQ(normalize_script_name("/"), "");
  EXPECT_EQ(normalize_script_name("/app/"), "/app");
  EXPECT_EQ(normalize_script_name("app"), "/app");
}

TEST(PrepareEnviron, JoinsRepeatedHeadersAndCookies) {
  auto r = make_request("GET", "/", {{"Accept", "a/b"}, {"X-Trace", "1"}, {"accept", "c/d"},
                                     {"Cookie", "a=1"}, {"Cookie", "b=2"},
                                     {"Content-Type", "text/plain"}});
  PreparedEnviron e = prepare_environ(r, {});
  EXPECT_EQ(value_of(e, "HTTP_ACCEPT"), "a/b,c/d");
  EXPECT_EQ(value_of(e, "HTTP_X_TRACE"), "1");
  EXPECT_EQ(value_of(e, "HTTP_COOKIE"), "a=1; b=2");
  EXPECT_EQ(value_of(e, "CONTENT_TYPE"), "text/plain");
  EXPECT_EQ(value_of(e, "HTTP_CONTENT_TYPE"), "<absent>");
  EXPECT_EQ(e.headers.size(), 4u);
}

TEST(PrepareEnviron, KeepsTheFirstNameAndJoinsInOrder) {
  auto r = make_request("GET", "/", {{"X-Multi", "1"}, {"Content-Type", "a"}, {"x-multi", "2"},
                                     {"X-MULTI", "3"}, {"COOKIE", "a=1"}, {"cookie", "b=2"},
                                     {"Content_Type", "b"}});
  PreparedEnviron e = prepare_environ(r, {});
  ASSERT_EQ(e.headers.size(), 4u);
  EXPECT_EQ(e.headers[0].name, "X-Multi");
  EXPECT_EQ(e.headers[0].value(), "1,2,3");
  EXPECT_EQ(e.headers[1].value(), "a");
  EXPECT_EQ(e.headers[2].value(), "a=1; b=2");
  EXPECT_EQ(value_of(e, "CONTENT_TYPE"), "a");
  EXPECT_EQ(value_of(e, "HTTP_CONTENT_TYPE"), "b");
  // The views stay good when the vector has moved its elements.
  PreparedEnviron moved = std::move(e);
  EXPECT_EQ(moved.headers[0].value(), "1,2,3");
  EXPECT_EQ(moved.headers[3].value(), "b");
}

TEST(PrepareEnviron, StripsScriptNameFromPathInfo) {
  EnvironConfig cfg{"/mount"};
  EXPECT_EQ(prepare_environ(make_request("GET", "/mount/x/y?q=1"), cfg).path_info, "/x/y");
  EXPECT_EQ(prepare_environ(make_request("GET", "/mount"), cfg).path_info, "");
  EXPECT_EQ(prepare_environ(make_request("GET", "/mounted"), cfg).path_info, "/mounted");
  EXPECT_EQ(prepare_environ(make_request("GET", "/m%6Funt/a%20b"), cfg).path_info, "/a b");
  EXPECT_EQ(prepare_environ(make_request("GET", "/mount/x"), cfg).script_name, "/mount");
}

TEST(PrepareEnviron, ServerFromListenerOrHostOnUnixSockets) {
  auto tcp = make_request("GET", "/", {{"Host", "example.com:9"}});
  PreparedEnviron e = prepare_environ(tcp, {});
  EXPECT_EQ(e.server_name, "127.0.0.1");
  EXPECT_EQ(e.server_port, "8000");

  auto unix_req = make_request("GET", "/", {{"Host", "example.com:8443"}});
  unix_req.unix_socket = true;
  unix_req.server_port = "";
  e = prepare_environ(unix_req, {});
  EXPECT_EQ(e.server_name, "example.com");
  EXPECT_EQ(e.server_port, "8443");

  unix_req.headers = {{"Host", "[::1]"}};
  unix_req.url_scheme = "https";
  e = prepare_environ(unix_req, {});
  EXPECT_EQ(e.server_name, "[::1]");
  EXPECT_EQ(e.server_port, "443");

  unix_req.headers = {};
  unix_req.url_scheme = "http";
  e = prepare_environ(unix_req, {});
  EXPECT_EQ(e.server_name, "localhost");
  EXPECT_EQ(e.server_port, "80");
}

}  // namespace
}  // namespace greenfork::wsgi
