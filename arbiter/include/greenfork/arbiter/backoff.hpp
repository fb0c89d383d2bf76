// Exponential restart back-off for a pool whose workers crash fast.
//
// A "fast" crash is a worker that lived less than healthy_seconds. The first
// fast crash is restarted at once, the next after initial_seconds, then
// twice as long each time up to max_seconds. A worker that lived
// healthy_seconds, or a crash healthy_seconds after the previous one, resets
// the count.
//
//   Backoff b(config.backoff);
//   double delay = b.on_crash(/*uptime=*/0.2, /*now=*/now);  // 0, 0.1, 0.2 ...
#pragma once

#include "greenfork/arbiter/config.hpp"

namespace greenfork::arbiter {

class Backoff {
 public:
  explicit Backoff(BackoffConfig config = {}) : config_(config) {}

  // A worker died unasked after `uptime` seconds; returns the delay before
  // its replacement may start.
  double on_crash(double uptime, double now);
  void reset() { fast_crashes_ = 0; }
  unsigned fast_crashes() const { return fast_crashes_; }
  void set_config(BackoffConfig config) { config_ = config; }

 private:
  BackoffConfig config_;
  unsigned fast_crashes_ = 0;
  double last_crash_ = -1e18;
};

}  // namespace greenfork::arbiter
