// UniqueFd: one owner per descriptor, closed exactly once.
#include "greenfork/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace greenfork {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, ClosesWhenDestroyed) {
  int raw = open_null();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesItUpOpen) {
  int raw = open_null();
  int kept = -1;
  {
    UniqueFd fd(raw);
    kept = fd.release();
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_EQ(kept, raw);
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesTheOldOne) {
  int first = open_null();
  int second = open_null();
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_TRUE(is_open(second));
  fd.reset();
  EXPECT_FALSE(is_open(second));
  EXPECT_FALSE(fd);
}

TEST(UniqueFd, MovingHandsOverOwnership) {
  int a = open_null();
  int b = open_null();
  UniqueFd first(a);
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(second.get(), a);
  UniqueFd third(b);
  third = std::move(second);  // b is closed, a now owned by third
  EXPECT_FALSE(is_open(b));
  EXPECT_EQ(third.get(), a);
  EXPECT_TRUE(is_open(a));
}

}  // namespace
}  // namespace greenfork
