// The pools as a whole: bring each to its target (PoolManager does the
// work), liveness, a failed pool, scale waiters, the first READY.
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/sd_notify.hpp"

namespace greenfork::arbiter {
namespace {

constexpr Seconds kUpgradeSettle{2.0};  // workers up this long before the old master drains

}  // namespace

void Supervisor::check_liveness() {
  manager_.murder_workers(
      [this](const WorkerPool& p, const Worker& w) -> const PoolConfig& {
        return reloads_.is_new(p, w) ? *reloads_.target(p) : p.config;
      },
      [this](WorkerPool& p, Worker& w, HeartbeatVerdict v) {
        // A new worker of a reload that never came up: the reload goes back.
        if (reloads_.is_new(p, w) && v == HeartbeatVerdict::kBootTimeout) {
          rollback(p, "worker slot " + std::to_string(w.slot) + " " + describe(v));
        }
      });
  check_initial_ready();
  check_scale_waiters();
}

void Supervisor::manage_pools() {
  if (shutdown_.stopping()) return;
  for (auto& p : manager_.pools()) manage_pool(*p);
  check_initial_ready();
  check_scale_waiters();
}

void Supervisor::manage_pool(WorkerPool& pool) {
  if (shutdown_.stopping() || pool.state == PoolState::kFailed || pool.state == PoolState::kStopped) return;
  if (const PoolConfig* target = reloads_.target(pool)) {
    PoolManager::ReloadStep step = manager_.reload_step(pool, *target, RollingReload::new_generation(pool),
                                                        reloads_.target_sockets(pool));
    if (step.done) {
      finish_reload(pool);
    } else if (!step.spawn.ok()) {
      rollback(pool, step.spawn.message());
    }
    return;
  }
  if (Status s = manager_.manage_workers(pool); !s.ok()) fail_pool(pool, s.message());
}

void Supervisor::fail_pool(WorkerPool& pool, const std::string& reason) {
  if (pool.state == PoolState::kFailed) return;
  pool.state = PoolState::kFailed;
  pool.state_reason = reason;
  spdlog::critical("pool [{}] FAILED: {}; not restarting it", pool.config.name, reason);
  events_.publish(SupervisorEvent::Kind::kPoolFailed, pool.config.name, 0, 0, reason);
  manager_.stop_workers(pool);
  manager_.release_held_slots(pool);
  close_listeners(pool, /*for_good=*/false);
  if (reloads_.reloading(pool)) {
    reloads_.drop(pool);
    close_unused_listeners();  // a changed bind's new listeners
    reload_ended(pool, reason);
  }
  for (auto it = scale_waiters_.begin(); it != scale_waiters_.end();) {
    if (it->pool == &pool) {
      it->done(Status::error(StatusCode::kFailedPrecondition, "pool " + pool.config.name + " failed: " + reason),
               it->result);
      it = scale_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  if (manager_.pools().size() == 1) {
    // Gunicorn's HaltServer: a single app that cannot boot stops arbiterd.
    spdlog::critical("Reason: {}. Shutting down (exit {}).", reason, contract::kExitBootError);
    if (!shutdown_.stopping()) exit_.reason = "pool [" + pool.config.name + "] failed: " + reason;
    begin_stop(true, contract::kExitBootError);
  }
}

void Supervisor::check_scale_waiters() {
  for (auto it = scale_waiters_.begin(); it != scale_waiters_.end();) {
    if (it->pool->settled() || it->pool->desired != it->result.desired) {
      it->done(Status(), it->result);
      it = scale_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void Supervisor::check_initial_ready() {
  if (shutdown_.stopping() || (initial_ready_sent_ && upgrade_parent_told_)) return;
  bool all_ready = true;
  for (auto& p : manager_.pools()) {
    if (p->state == PoolState::kFailed || p->state == PoolState::kStopped) continue;
    if (p->ready_count() < p->desired) all_ready = false;
  }
  if (!all_ready) {
    settled_since_.reset();
    return;
  }
  if (!settled_since_) settled_since_ = now();
  if (!initial_ready_sent_) {
    initial_ready_sent_ = true;
    spdlog::info("All pools ready");
    notify_systemd("READY=1\nSTATUS=serving\nMAINPID=" + std::to_string(::getpid()));
  }
  // The old master of an upgrade drains as soon as we say READY: first make
  // sure the workers stay up a moment (a worker READY by "auto" after one
  // silent second may still be about to exit 4).
  if (options_.upgrade_parent_notify.empty()) {
    upgrade_parent_told_ = true;
  } else if (!upgrade_parent_told_ && now() - *settled_since_ >= kUpgradeSettle) {
    upgrade_parent_told_ = true;
    spdlog::info("Telling the old master we are ready");
    Status s = sd_notify_to(options_.upgrade_parent_notify, "READY=1");
    if (!s.ok()) spdlog::warn("telling the old master we are ready: {}", s.message());
  }
}

}  // namespace greenfork::arbiter
