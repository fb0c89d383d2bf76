#include "greenfork/arbiter/metrics/worker_metrics.hpp"

#include <sys/wait.h>

namespace greenfork::arbiter {
namespace {

// Beats closer together than this would make a noisy rate.
constexpr Seconds kRateWindow{1.0};

}  // namespace

const char* to_string(RestartReason reason) {
  switch (reason) {
    case RestartReason::kExit: return "exit";
    case RestartReason::kSignal: return "signal";
    case RestartReason::kHeartbeatTimeout: return "heartbeat_timeout";
    case RestartReason::kMaxRequests: return "max_requests";
    case RestartReason::kMemory: return "memory";
  }
  return "exit";
}

std::optional<RestartReason> classify_restart(StopCause cause, bool respawn, int wait_status) {
  switch (cause) {
    case StopCause::kHeartbeatTimeout: return RestartReason::kHeartbeatTimeout;
    case StopCause::kMaxRequests: return RestartReason::kMaxRequests;
    case StopCause::kMemory: return RestartReason::kMemory;
    case StopCause::kNone: break;
  }
  if (!respawn) return std::nullopt;
  return WIFSIGNALED(wait_status) ? RestartReason::kSignal : RestartReason::kExit;
}

void WorkerMetrics::on_beat(const NotifyMessage& m, MonoTime now) {
  if (m.connections) connections = *m.connections;
  // Counters only move forward: a garbled or partial beat changes nothing.
  if (m.requests_by_class && m.duration_buckets && m.duration_sum) {
    counters.by_class = *m.requests_by_class;
    counters.buckets = *m.duration_buckets;
    counters.duration_sum = *m.duration_sum;
    reports_counters = true;
  }
  if (m.requests_served) on_served(*m.requests_served, now);
}

void WorkerMetrics::on_served(uint64_t served, MonoTime now) {
  if (!rate_since || served < rate_base) {
    rate_since = now;
    rate_base = served;
    return;
  }
  const Seconds span = now - *rate_since;
  if (span < kRateWindow) return;
  requests_per_second = static_cast<double>(served - rate_base) / span.count();
  rate_since = now;
  rate_base = served;
}

void PoolMetrics::retire(const WorkerMetrics& w, uint64_t served) {
  retired.add(w.counters);
  retired_unclassified += unclassified(w, served);
}

}  // namespace greenfork::arbiter
