// Exponential restart back-off for one worker slot whose workers crash fast
// (each slot has its own, so one slot's crash loop never holds back the
// others).
//
// A "fast" crash is a worker that died before it was READY and lived less
// than healthy_seconds: a boot loop. The first fast crash is restarted at
// once, the next after initial_seconds, then twice as long each time up to
// max_seconds. A worker that became READY (it booted and served), one that
// lived healthy_seconds, or a crash healthy_seconds after the previous one,
// resets the count: a worker killed from outside every half second is
// always replaced at once.
//
//   Backoff b(config.backoff);
//   Seconds delay = b.on_crash(/*uptime=*/Seconds(0.2), /*was_ready=*/false, now);  // 0, 0.1, 0.2 ...
#pragma once

#include <optional>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

class Backoff {
 public:
  explicit Backoff(BackoffConfig config = {}) : config_(config) {}

  // A worker died unasked after `uptime`; returns the delay before its
  // replacement may start.
  Seconds on_crash(Seconds uptime, bool was_ready, MonoTime now);
  void reset() { fast_crashes_ = 0; }
  unsigned fast_crashes() const { return fast_crashes_; }
  void set_config(BackoffConfig config) { config_ = config; }

 private:
  BackoffConfig config_;
  unsigned fast_crashes_ = 0;
  std::optional<MonoTime> last_crash_;
};

}  // namespace greenfork::arbiter
