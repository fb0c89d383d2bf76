#include "greenfork/arbiter/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace greenfork::arbiter {

double Backoff::on_crash(double uptime, bool was_ready, double now) {
  bool healthy_run = was_ready || uptime >= config_.healthy_seconds;
  bool quiet_since_last = now - last_crash_ >= config_.healthy_seconds;
  last_crash_ = now;
  if (healthy_run || quiet_since_last) {
    // A crash after a healthy period restarts at once and starts counting anew.
    fast_crashes_ = healthy_run ? 0 : 1;
    return 0.0;
  }
  ++fast_crashes_;
  if (fast_crashes_ <= 1) return 0.0;
  double delay = config_.initial_seconds * std::pow(2.0, static_cast<double>(fast_crashes_ - 2));
  return std::min(delay, config_.max_seconds);
}

}  // namespace greenfork::arbiter
