// RateLimitedLog: refusals (bad tokens, refused control connections) are
// logged at most once per interval, each line counting what it stands for.
#include "rate_limited_log.hpp"

#include <gtest/gtest.h>

namespace greenfork::arbiter {
namespace {

TEST(RateLimitedLog, AtMostOneLinePerInterval) {
  RateLimitedLog log("control: refused", std::chrono::seconds(1));
  const auto t0 = RateLimitedLog::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(log.record("from a", t0));  // the first is logged at once
  int lines = 0;
  for (int i = 1; i <= 1000; ++i) lines += log.record("from b", t0 + std::chrono::microseconds(i * 900)) ? 1 : 0;
  EXPECT_EQ(lines, 0);  // 1,000 within 0.9 s
  EXPECT_TRUE(log.record("from c", t0 + std::chrono::milliseconds(1000)));
  EXPECT_FALSE(log.record("from d", t0 + std::chrono::milliseconds(1500)));
  EXPECT_TRUE(log.record("from e", t0 + std::chrono::milliseconds(2100)));
}

}  // namespace
}  // namespace greenfork::arbiter
