// A warning that may repeat thousands of times a second (refused control
// connections, bad bearer tokens) logged at most once per interval, with
// the number of occurrences it stands for:
//
//   RateLimitedLog bad_tokens("control: refused a call with a bad or missing token");
//   bad_tokens.record("from 10.0.0.7:51234");
//   // -> "control: refused a call with a bad or missing token from 10.0.0.7:51234 (3 in the last 1.0 s)"
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace greenfork::arbiter {

class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimitedLog(std::string what, Clock::duration interval = std::chrono::seconds(1))
      : what_(std::move(what)), interval_(interval) {}

  // Counts one occurrence; logs a warning when the last line is older than
  // the interval. Thread-safe. Returns whether a line was written.
  bool record(const std::string& detail, Clock::time_point now = Clock::now());

 private:
  const std::string what_;
  const Clock::duration interval_;
  std::mutex mutex_;
  bool logged_once_ = false;
  Clock::time_point last_line_{};
  std::uint64_t unlogged_ = 0;
};

}  // namespace greenfork::arbiter
