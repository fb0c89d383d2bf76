// Decisions the pools' load and memory drive, once per tick: autoscaling
// (Autoscaler decides, the pool's target moves one worker at a time) and
// max_worker_memory (PoolManager replaces a worker over the limit, its
// successor READY first).
#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {
namespace {

// RSS is read from /proc this often per pool (a read per worker).
constexpr Seconds kMemoryCheckEvery{1.0};
// A new worker's load is measured after LoadMeter::kWindow of beats.
constexpr Seconds kWarmUp = LoadMeter::kWindow + Seconds(1.0);

}  // namespace

void Supervisor::check_scaling() {
  if (shutdown_.stopping()) return;
  for (auto& p : manager_.pools()) {
    if (p->state != PoolState::kRunning || p->removed) continue;
    if (p->config.max_worker_memory_bytes > 0 && (!p->next_memory_check || now() >= *p->next_memory_check)) {
      p->next_memory_check = now() + kMemoryCheckEvery;
      manager_.check_memory(*p);
    }
    if (p->autoscaler) autoscale(*p);
  }
}

void Supervisor::autoscale(WorkerPool& pool) {
  PoolLoad load;
  load.threads_per_worker = app_threads_of(pool.config.command);
  for (const auto& w : pool.workers) {
    // A worker READY a moment ago whose load is not measured yet counts as
    // starting: judged idle, it would reset the busy time of the others.
    const bool warming = w->state == WorkerState::kReady && !w->load.average() && w->live.ready_at &&
                         now() - *w->live.ready_at < kWarmUp;
    // Workers being replaced still serve: their load counts, their count does not.
    if (warming) {
      ++load.starting;
    } else if (w->state == WorkerState::kReady) {
      if (w->restart_reason.empty()) ++load.ready;
      load.in_flight += w->load.average().value_or(w->requests_in_flight);
    } else if (w->state == WorkerState::kStarting) {
      ++load.starting;
    }
  }
  std::optional<AutoscaleDecision> d = pool.autoscaler->decide(pool.desired, load, now());
  if (!d || d->target == pool.desired) return;
  const unsigned previous = pool.desired;
  pool.desired = d->target;
  spdlog::info("pool [{}]: autoscale {} -> {}: {}", pool.config.name, previous, pool.desired, d->reason);
  events_.publish(SupervisorEvent::Kind::kPoolScaled, pool.config.name, 0, 0,
                  "autoscale " + std::to_string(previous) + " -> " + std::to_string(pool.desired) + ": " + d->reason,
                  "autoscale");
  manage_pool(pool);
}

}  // namespace greenfork::arbiter
