// One pool's state: its configuration, desired count, workers, restarts,
// reload generation. Data plus small queries; the Supervisor decides.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/arbiter/autoscaler.hpp"
#include "greenfork/arbiter/backoff.hpp"
#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/heartbeat_monitor.hpp"
#include "greenfork/arbiter/exit_decision.hpp"
#include "greenfork/arbiter/metrics/worker_metrics.hpp"
#include "greenfork/arbiter/rollout_plans.hpp"

namespace greenfork::arbiter {

struct Worker {
  unsigned slot = 0;
  pid_t pid = 0;
  std::string token;
  unsigned generation = 0;
  WorkerState state = WorkerState::kStarting;
  Liveness live;
  // Draining/stopping: when to escalate to SIGKILL (empty: not scheduled).
  std::optional<MonoTime> kill_at;
  // Stats from heartbeats.
  uint64_t requests_served = 0;
  uint32_t requests_in_flight = 0;
  LoadMeter load;  // average requests in flight, from X_REQUEST_SECONDS
  uint64_t rss_bytes = 0;
  std::string status_text;
  WorkerMetrics metrics;  // counters for /metrics, rate, why it was stopped
  // Non-empty ("memory"): being replaced while it serves; its successor is
  // started first and it gets TERM once enough workers are READY without it.
  std::string restart_reason;
  // The worker's gRPC heartbeat stream, if open: commands back to it.
  std::function<void(WorkerCommandKind)> commands;
};

class WorkerPool {
 public:
  WorkerPool(PoolConfig pool_config, PoolSockets pool_sockets)
      : config(std::move(pool_config)),
        sockets(std::move(pool_sockets)),
        desired(Autoscaler(config.autoscale).clamp(config.workers)) {
    if (config.autoscale.enabled()) autoscaler.emplace(config.autoscale);
  }

  PoolConfig config;
  PoolSockets sockets;
  unsigned desired = 0;
  PoolState state = PoolState::kRunning;
  std::string state_reason;
  uint64_t restarts = 0;
  PoolMetrics metrics;  // exited workers' totals, restarts by reason, reloads
  unsigned generation = 0;
  // Set when config.autoscale is on: moves `desired` with the load.
  std::optional<Autoscaler> autoscaler;
  // Removed from the configuration by a reload: drains, then goes.
  bool removed = false;
  // The next RSS check of the workers (max_worker_memory).
  std::optional<MonoTime> next_memory_check;
  // Back-off is per slot: a crashed worker's slot is held for its
  // replacement until its own delay is over; the other slots go on.
  std::vector<HeldSlot> held;
  std::map<unsigned, Backoff> slot_backoff;
  std::vector<std::unique_ptr<Worker>> workers;
  // arbiterd's copies of this pool's listeners it closed while the pool
  // cannot serve (failed), to bind again when a reload brings it back.
  std::vector<ClosedListener> closed_listeners;
  bool listeners_closed = false;

  Backoff& backoff_of(unsigned slot);
  Worker* find_pid(pid_t pid);
  Worker* find_slot(unsigned slot);
  std::unique_ptr<Worker> remove(pid_t pid);
  std::vector<WorkerView> views() const;
  unsigned active_count() const;
  unsigned ready_count() const;  // active and READY
  // Active workers not being replaced: those a scale counts.
  std::vector<WorkerView> kept_views() const;
  // Scaled and settled: exactly `desired` active workers, all READY.
  bool settled() const { return active_count() == desired && ready_count() == desired; }
};

}  // namespace greenfork::arbiter
