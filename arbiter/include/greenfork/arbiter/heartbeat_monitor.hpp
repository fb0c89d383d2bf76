// Liveness decisions: is a worker ready, hung, too slow to boot, or stuck
// on a request? Pure functions of the pool's policy, what the worker has
// sent (sd_notify or gRPC beats) and the time; the supervisor acts on the
// verdict (SIGABRT, then SIGKILL).
//
//   HeartbeatPolicy policy = HeartbeatPolicy::from(pool_config);
//   switch (check_heartbeat(policy, worker.liveness, now)) { ... }
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

struct HeartbeatPolicy {
  HeartbeatMode mode = HeartbeatMode::kAuto;
  Seconds timeout{30};         // silence after which a watched worker is hung
  Seconds boot_timeout{60};    // spawn -> READY
  Seconds max_request_age{0};  // 0: off
  Seconds auto_ready_after{1.0};  // kAuto: a silent worker is READY after this
  // The worker declares a readiness protocol (gworker, or readiness =
  // "notify"): READY only on its READY message, whatever the mode says, so
  // one hung before READY meets boot_timeout instead of the silent second.
  bool ready_message_required = false;

  static HeartbeatPolicy from(const PoolConfig& pool);
};

// True when `command` runs gworker, which always says READY=1 once its app
// is loaded.
bool runs_gworker(const std::vector<std::string>& command);

// What a worker has told us, and when.
struct Liveness {
  MonoTime started_at{};
  std::optional<MonoTime> ready_at;
  std::optional<MonoTime> last_beat;  // READY, WATCHDOG=1 or a gRPC beat
  bool watchdog = false;              // sent WATCHDOG=1 or a gRPC beat: enforce timeout
  bool spoke = false;                 // sent any sd_notify message or beat
  Seconds oldest_request_age{0};      // from the last beat (gRPC or notify)
  std::optional<MonoTime> oldest_request_seen_at;

  bool ready() const { return ready_at.has_value(); }
};

enum class HeartbeatVerdict {
  kOk,
  kBecomeReady,   // kNone at once, kAuto after a silent second
  kBootTimeout,   // not READY within boot_timeout
  kHung,          // no beat within timeout
  kRequestTooOld, // oldest in-flight request older than max_request_age
};

HeartbeatVerdict check_heartbeat(const HeartbeatPolicy& policy, const Liveness& live, MonoTime now);

// For logs: "boot timeout", "heartbeat timeout", ...
const char* describe(HeartbeatVerdict verdict);


}  // namespace greenfork::arbiter
