#include "greenfork/wsgi/wsgi_response_head.hpp"

#include <gtest/gtest.h>

namespace greenfork::wsgi {
namespace {

TEST(ParseStatus, CodeAndReason) {
  auto s = parse_status("404 Not Found");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->code, 404);
  EXPECT_EQ(s->reason, "Not Found");
  auto bare = parse_status("204");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->code, 204);
  EXPECT_EQ(bare->reason, "");
}

TEST(ParseStatus, RejectsSplittingAndGarbage) {
  for (std::string bad : {std::string("200 OK\r\nX-Evil: 1"), std::string("200 OK\n"),
                          std::string("200 O\0K", 7), std::string("20 OK"), std::string("2000 OK"),
                          std::string("OK"), std::string("abc"), std::string("099 Low"),
                          std::string("200\tOK")}) {
    EXPECT_FALSE(parse_status(bad).ok()) << bad;
  }
}

TEST(CheckHeader, AcceptsTokensAndPlainValues) {
  EXPECT_TRUE(check_header("Content-Type", "text/html; charset=utf-8").ok());
  EXPECT_TRUE(check_header("X-Custom_Thing!", "a\tb").ok());
  EXPECT_TRUE(check_header("Set-Cookie", "").ok());
}

TEST(CheckHeader, RejectsCrLfNulAndBadNames) {
  EXPECT_FALSE(check_header("X-A", "a\r\nSet-Cookie: x=1").ok());
  EXPECT_FALSE(check_header("X-A", "a\nb").ok());
  EXPECT_FALSE(check_header("X-A", std::string("a\0b", 3)).ok());
  EXPECT_FALSE(check_header("Bad Name", "x").ok());
  EXPECT_FALSE(check_header("Bad:Name", "x").ok());
  EXPECT_FALSE(check_header("", "x").ok());
  EXPECT_FALSE(check_header("X\r\nY", "x").ok());
  auto st = check_header("X-Injected", "a\r\nb");
  EXPECT_NE(st.message().find("X-Injected"), std::string::npos);
  EXPECT_NE(st.message().find("\\x0d\\x0a"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace greenfork::wsgi
