// What arbiterd keeps for the metrics: per worker, its last reported
// request counters and its request rate; per pool, the totals of the
// workers that are gone (so a pool's counters never go back when a worker
// restarts), restarts by reason and reloads. Plain data the pool manager
// updates on the loop thread; no I/O.
//
//   w.metrics.on_beat(message, now);          // every notify datagram
//   pool.metrics.retire(w.metrics, w.requests_served);  // the worker exited
//   RequestCounters all = pool_totals(pool.metrics, live_workers);
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "greenfork/arbiter/mono_time.hpp"
#include "greenfork/arbiter/notify_message.hpp"
#include "greenfork/request_counters.hpp"

namespace greenfork::arbiter {

// Why arbiterd (or the worker itself) ended a worker, when it was not a
// plain exit: decides the restart reason once the worker is reaped.
enum class StopCause { kNone, kHeartbeatTimeout, kMaxRequests, kMemory };

// greenfork_worker_restarts_total's reason label.
enum class RestartReason { kExit, kSignal, kHeartbeatTimeout, kMaxRequests, kMemory };
inline constexpr size_t kRestartReasons = 5;
const char* to_string(RestartReason reason);

// A reaped worker's restart reason: its stop cause when it has one (a
// hung worker killed, a worker that stopped on its own after max_requests,
// one over its memory limit), else whether it crashed (`respawn`) by a
// signal or by exiting; nullopt for an exit arbiterd asked for (scale
// down, reload, stop) or a boot failure.
std::optional<RestartReason> classify_restart(StopCause cause, bool respawn, int wait_status);

struct WorkerMetrics {
  RequestCounters counters;
  bool reports_counters = false;  // sent the X_ metrics fields at least once
  uint32_t connections = 0;
  StopCause stop_cause = StopCause::kNone;
  // Requests per second over the last beats (at least a second apart).
  double requests_per_second = 0;
  std::optional<MonoTime> rate_since;
  uint64_t rate_base = 0;

  // The metrics fields of one notify datagram.
  void on_beat(const NotifyMessage& m, MonoTime now);
  // A new served count (notify or gRPC beat) for the rate.
  void on_served(uint64_t served, MonoTime now);
};

struct PoolMetrics {
  RequestCounters retired;            // the exited workers' last reports
  uint64_t retired_unclassified = 0;  // requests of workers without counters
  std::array<uint64_t, kRestartReasons> restarts{};
  uint64_t reloads = 0;

  void retire(const WorkerMetrics& w, uint64_t served);
  void count_restart(RestartReason r) { ++restarts[static_cast<size_t>(r)]; }
};

// Requests a worker served that its counters do not classify (a worker
// that reports only X_REQUESTS_SERVED or beats over gRPC).
inline uint64_t unclassified(const WorkerMetrics& w, uint64_t served) {
  const uint64_t classified = w.counters.requests();
  return served > classified ? served - classified : 0;
}

}  // namespace greenfork::arbiter
