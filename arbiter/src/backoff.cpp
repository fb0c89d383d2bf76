#include "greenfork/arbiter/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace greenfork::arbiter {

Seconds Backoff::on_crash(Seconds uptime, bool was_ready, MonoTime now) {
  const Seconds healthy(config_.healthy_seconds);
  bool healthy_run = was_ready || uptime >= healthy;
  bool quiet_since_last = !last_crash_ || now - *last_crash_ >= healthy;
  last_crash_ = now;
  if (healthy_run || quiet_since_last) {
    // A crash after a healthy period restarts at once and starts counting anew.
    fast_crashes_ = healthy_run ? 0 : 1;
    return Seconds(0);
  }
  ++fast_crashes_;
  if (fast_crashes_ <= 1) return Seconds(0);
  double delay = config_.initial_seconds * std::pow(2.0, static_cast<double>(fast_crashes_ - 2));
  return Seconds(std::min(delay, config_.max_seconds));
}

}  // namespace greenfork::arbiter
