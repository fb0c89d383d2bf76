#include "rate_limited_log.hpp"

#include <spdlog/spdlog.h>

namespace greenfork::arbiter {

bool RateLimitedLog::record(const std::string& detail, Clock::time_point now) {
  std::uint64_t count = 0;
  double span = 0;
  {
    std::lock_guard lock(mutex_);
    ++unlogged_;
    if (logged_once_ && now - last_line_ < interval_) return false;
    count = unlogged_;
    span = logged_once_ ? std::chrono::duration<double>(now - last_line_).count() : 0;
    unlogged_ = 0;
    logged_once_ = true;
    last_line_ = now;
  }
  const std::string suffix = detail.empty() ? "" : " " + detail;
  if (count == 1) {
    spdlog::warn("{}{}", what_, suffix);
  } else {
    spdlog::warn("{}{} ({} in the last {:.1f} s)", what_, suffix, count, span);
  }
  return true;
}

}  // namespace greenfork::arbiter
