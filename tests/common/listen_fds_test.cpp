#include "greenfork/listen_fds.hpp"

#include <gtest/gtest.h>

namespace greenfork {
namespace {

TEST(ListenFds, UnsetMeansNone) {
  auto fds = parse_listen_fds(nullptr, nullptr, nullptr, 42);
  ASSERT_TRUE(fds.ok());
  EXPECT_EQ(fds->kind, ListenFds::kNone);
}

TEST(ListenFds, OursWithNames) {
  auto fds = parse_listen_fds("2", "42", "web:admin", 42);
  ASSERT_TRUE(fds.ok()) << fds.status().message();
  EXPECT_EQ(fds->kind, ListenFds::kOurs);
  EXPECT_EQ(fds->count, 2);
  EXPECT_EQ(fds->names, (std::vector<std::string>{"web", "admin"}));
}

TEST(ListenFds, AnotherProcessIsIgnored) {
  auto fds = parse_listen_fds("2", "43", nullptr, 42);
  ASSERT_TRUE(fds.ok());
  EXPECT_EQ(fds->kind, ListenFds::kOtherProcess);
}

TEST(ListenFds, MalformedCountsAreErrors) {
  for (const char* bad : {"3abc", "", "0", "-1", "+3", " 3", "3 ", "99999", "0x3"}) {
    EXPECT_FALSE(parse_listen_fds(bad, "42", nullptr, 42).ok()) << "LISTEN_FDS=" << bad;
  }
}

TEST(ListenFds, MalformedPidsAreErrors) {
  for (const char* bad : {"42abc", "", "-42", "0"}) {
    EXPECT_FALSE(parse_listen_fds("1", bad, nullptr, 42).ok()) << "LISTEN_PID=" << bad;
  }
  auto unset = parse_listen_fds("1", nullptr, nullptr, 42);
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->kind, ListenFds::kOtherProcess);
}

}  // namespace
}  // namespace greenfork
