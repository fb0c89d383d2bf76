#include "greenfork/arbiter/heartbeat_monitor.hpp"

#include <algorithm>

namespace greenfork::arbiter {

HeartbeatPolicy HeartbeatPolicy::from(const PoolConfig& pool) {
  HeartbeatPolicy p;
  p.mode = pool.heartbeat;
  p.timeout = Seconds(pool.timeout_seconds);
  p.boot_timeout = Seconds(pool.boot_timeout_seconds);
  p.max_request_age = Seconds(pool.max_request_age_seconds);
  p.ready_message_required = pool.readiness == Readiness::kNotify || runs_gworker(pool.command);
  return p;
}

bool runs_gworker(const std::vector<std::string>& command) {
  if (command.empty()) return false;
  const std::string& exe = command.front();
  size_t slash = exe.rfind('/');
  return exe.compare(slash == std::string::npos ? 0 : slash + 1, std::string::npos, "gworker") == 0;
}

HeartbeatVerdict check_heartbeat(const HeartbeatPolicy& policy, const Liveness& live, MonoTime now) {
  if (!live.ready()) {
    if (policy.mode == HeartbeatMode::kNone) return HeartbeatVerdict::kBecomeReady;
    // A worker that declares no readiness protocol is READY after a
    // moment; one that has said anything, or declares one, must say READY.
    if (policy.mode == HeartbeatMode::kAuto && !policy.ready_message_required && !live.spoke &&
        now - live.started_at >= policy.auto_ready_after) {
      return HeartbeatVerdict::kBecomeReady;
    }
    if (policy.boot_timeout > Seconds(0) && now - live.started_at > policy.boot_timeout) {
      return HeartbeatVerdict::kBootTimeout;
    }
    return HeartbeatVerdict::kOk;
  }
  bool watched = policy.mode == HeartbeatMode::kNotify || policy.mode == HeartbeatMode::kGrpc ||
                 (policy.mode == HeartbeatMode::kAuto && live.watchdog);
  if (watched && policy.timeout > Seconds(0)) {
    MonoTime last = std::max(live.last_beat.value_or(*live.ready_at), *live.ready_at);
    if (now - last > policy.timeout) return HeartbeatVerdict::kHung;
  }
  if (policy.max_request_age > Seconds(0) && live.oldest_request_age > Seconds(0) &&
      live.oldest_request_seen_at) {
    Seconds age = live.oldest_request_age + (now - *live.oldest_request_seen_at);
    if (age > policy.max_request_age) return HeartbeatVerdict::kRequestTooOld;
  }
  return HeartbeatVerdict::kOk;
}

const char* describe(HeartbeatVerdict verdict) {
  switch (verdict) {
    case HeartbeatVerdict::kOk: return "alive";
    case HeartbeatVerdict::kBecomeReady: return "ready";
    case HeartbeatVerdict::kBootTimeout: return "not READY within boot_timeout";
    case HeartbeatVerdict::kHung: return "no heartbeat within timeout";
    case HeartbeatVerdict::kRequestTooOld: return "a request exceeded max_request_age";
  }
  return "?";
}

}  // namespace greenfork::arbiter
