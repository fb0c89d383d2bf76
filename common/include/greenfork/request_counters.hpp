// A worker's request counters as they travel with its beats: requests by
// status class, a latency histogram with fixed bucket bounds, the open
// connections. gworker fills them per request; arbiterd adds them up per
// pool. One place knows the wire form (the X_ notify fields, contract.hpp).
//
//   RequestCounters c;
//   c.record(200, 0.004);
//   std::string beat = "WATCHDOG=1\n" + c.notify_fields();
//   // arbiterd: RequestCounters::parse_classes / parse_buckets per field
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenfork {

// Upper bounds (seconds) of the latency histogram: Prometheus' default
// buckets, so dashboards written for them work. +Inf is implied.
inline constexpr std::array<double, 11> kDurationBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};

struct RequestCounters {
  // 1xx .. 5xx; a request answered with no status or one outside
  // 100..599 counts as 5xx.
  std::array<uint64_t, 5> by_class{};
  // Non-cumulative: buckets[i] counts durations in (bound[i-1], bound[i]];
  // the last entry counts those above the last bound (+Inf).
  std::array<uint64_t, kDurationBounds.size() + 1> buckets{};
  double duration_sum = 0;  // seconds

  void record(int status, double seconds);
  uint64_t requests() const;   // the sum of by_class
  uint64_t observations() const;  // the sum of buckets
  // Adds `other` (a dead worker's last report into its pool's totals).
  void add(const RequestCounters& other);

  // "X_REQUESTS_BY_CLASS=..\nX_DURATION_BUCKETS=..\nX_DURATION_SUM=.." (no
  // trailing newline).
  std::string notify_fields() const;
  // The values of those fields; nullopt when malformed (wrong count, not a
  // number), so a garbled beat changes nothing.
  static std::optional<std::array<uint64_t, 5>> parse_classes(std::string_view text);
  static std::optional<std::array<uint64_t, kDurationBounds.size() + 1>> parse_buckets(
      std::string_view text);
};

}  // namespace greenfork
