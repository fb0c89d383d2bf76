// greenfork/http_token.hpp: the HTTP token helpers every component shares.
#include "greenfork/http_token.hpp"

#include <gtest/gtest.h>

#include <string>

namespace greenfork::http_token {
namespace {

TEST(HttpToken, Tchar) {
  for (const char c : std::string("!#$%&'*+-.^_`|~09azAZ")) EXPECT_TRUE(is_tchar(c)) << c;
  for (const char c : std::string("\"(),/:;<=>?@[\\]{} \t\x7f\x01")) EXPECT_FALSE(is_tchar(c)) << c;
  EXPECT_FALSE(is_tchar('\0'));
  EXPECT_FALSE(is_tchar(static_cast<char>(0xe9)));
  EXPECT_TRUE(is_token("X-Custom_Thing!"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("Bad Name"));
  EXPECT_FALSE(is_token("Bad:Name"));
}

TEST(HttpToken, CaseAndWhitespace) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("\xc1", "\xe1"));  // no locale folding of non-ASCII bytes
  EXPECT_EQ(trim(" \t v a l \t"), "v a l");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_TRUE(has_token("keep-alive, Close", "close"));
  EXPECT_TRUE(has_token("close", "close"));
  EXPECT_TRUE(has_token(" a ,\tclose\t", "close"));
  EXPECT_FALSE(has_token("closed, x", "close"));
  EXPECT_FALSE(has_token("", "close"));
}

TEST(HttpToken, HopByHopIsTheServersBusiness) {
  for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer",
                           "Trailers", "Transfer-Encoding", "upgrade", "Proxy-Authenticate",
                           "Proxy-Authorization"}) {
    EXPECT_TRUE(is_hop_by_hop(name)) << name;
  }
  for (const char* name : {"Content-Length", "Content-Type", "Set-Cookie", "Date", "Server",
                           "X-Connection", "Keep-Alive-X"}) {
    EXPECT_FALSE(is_hop_by_hop(name)) << name;
  }
}

}  // namespace
}  // namespace greenfork::http_token
