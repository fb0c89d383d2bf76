// Workers: spawn, stop, liveness, and bringing each pool to its target.
#include <unistd.h>

#include <csignal>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/arbiter/worker_spawn_spec.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/sd_notify.hpp"

extern char** environ;

namespace greenfork::arbiter {
namespace {

constexpr Seconds kAbortGrace{1.0};  // SIGABRT -> SIGKILL for a hung worker
constexpr Seconds kUpgradeSettle{2.0};  // workers up this long before the old master drains

}  // namespace

WorkerPool* Supervisor::find_pool(const std::string& name) {
  for (auto& p : pools_) {
    if (p->config.name == name) return p.get();
  }
  return nullptr;
}

std::pair<WorkerPool*, Worker*> Supervisor::find_worker_by_pid(pid_t pid) {
  for (auto& p : pools_) {
    if (Worker* w = p->find_pid(pid)) return {p.get(), w};
  }
  return {nullptr, nullptr};
}

bool Supervisor::spawn_worker(WorkerPool& pool, const PoolConfig& config, unsigned generation,
                              std::optional<unsigned> held_slot) {
  auto w = std::make_unique<Worker>();
  w->slot = held_slot ? *held_slot : slots_.acquire();
  w->token = ops_.random_token();
  w->generation = generation;
  std::vector<std::string> environment;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) environment.emplace_back(*e);
  WorkerSlot who{w->slot, w->token, notify_ ? notify_->address() : "", options_.control_socket};
  StatusOr<SpawnSpec> spec = worker_spawn_spec(config, pool.sockets, who, environment);
  StatusOr<pid_t> pid = spec.ok() ? ops_.spawn(*spec) : StatusOr<pid_t>(spec.status());
  if (!pid.ok()) {
    slots_.release(w->slot);
    const std::string why = pid.status().message();
    spdlog::error("pool [{}]: cannot start worker: {}", config.name, why);
    if (reloads_.reloading(pool) && generation == RollingReload::new_generation(pool)) {
      rollback(pool, why);
    } else {
      fail_pool(pool, why);
    }
    return false;
  }
  w->pid = *pid;
  w->live.started_at = now();
  spdlog::info("Booting worker with pid: {} slot {} [{}]", w->pid, w->slot, config.name);
  events_.publish(SupervisorEvent::Kind::kWorkerSpawned, config.name, w->slot, w->pid,
                  "generation " + std::to_string(generation));
  pool.workers.push_back(std::move(w));
  return true;
}

void Supervisor::stop_worker(WorkerPool& pool, Worker& w, bool graceful) {
  if (graceful) {
    w.state = WorkerState::kDraining;
    w.kill_at = now() + Seconds(pool.config.graceful_timeout_seconds);
    if (w.commands) w.commands(WorkerCommandKind::kGracefulStop);
    (void)ops_.kill_group(w.pid, SIGTERM);
    spdlog::info("Stopping worker (pid: {}) slot {} [{}]: TERM", w.pid, w.slot, pool.config.name);
  } else {
    w.state = WorkerState::kStopping;
    w.kill_at = now();
    (void)ops_.kill_group(w.pid, SIGKILL);
  }
}

void Supervisor::kill_for_timeout(WorkerPool& pool, Worker& w, const std::string& why) {
  spdlog::critical("WORKER TIMEOUT (pid:{}) slot {} [{}]: {}", w.pid, w.slot, pool.config.name, why);
  events_.publish(SupervisorEvent::Kind::kWorkerTimedOut, pool.config.name, w.slot, w.pid, why);
  w.state = WorkerState::kStopping;
  w.kill_at = now() + kAbortGrace;
  (void)ops_.kill_process(w.pid, SIGABRT);
}

void Supervisor::mark_ready(WorkerPool& pool, Worker& w) {
  if (w.state != WorkerState::kStarting) return;
  w.state = WorkerState::kReady;
  w.live.ready_at = now();
  spdlog::info("Worker ready (pid: {}) slot {} [{}] after {:.2f}s", w.pid, w.slot, pool.config.name,
               (*w.live.ready_at - w.live.started_at).count());
  events_.publish(SupervisorEvent::Kind::kWorkerReady, pool.config.name, w.slot, w.pid, "");
}

void Supervisor::handle_notify(WorkerPool& pool, Worker& w, const NotifyMessage& m) {
  w.live.spoke = true;
  if (m.status) w.status_text = *m.status;
  if (m.requests_served) w.requests_served = *m.requests_served;
  if (m.requests_in_flight) w.requests_in_flight = *m.requests_in_flight;
  if (m.oldest_request_age) {
    w.live.oldest_request_age = Seconds(*m.oldest_request_age);
    w.live.oldest_request_seen_at = now();
  }
  if (m.watchdog) {
    w.live.watchdog = true;
    w.live.last_beat = now();
  }
  if (m.ready) {
    w.live.last_beat = now();
    mark_ready(pool, w);
  }
  if (m.stopping && is_active(w.state)) {
    // The worker stops on its own: count it out so a replacement starts.
    w.state = WorkerState::kDraining;
    w.kill_at = now() + Seconds(pool.config.graceful_timeout_seconds);
  }
}

void Supervisor::check_liveness() {
  MonoTime t = now();
  for (auto& p : pools_) {
    // Snapshot the pointers: handlers below may stop or roll back workers.
    std::vector<Worker*> ws;
    for (auto& w : p->workers) ws.push_back(w.get());
    for (Worker* w : ws) {
      if (!is_active(w->state)) {
        if (w->kill_at && t >= *w->kill_at) {
          spdlog::warn("Worker (pid: {}) slot {} [{}] did not exit in time: SIGKILL", w->pid, w->slot,
                       p->config.name);
          (void)ops_.kill_group(w->pid, SIGKILL);
          w->kill_at.reset();
        }
        continue;
      }
      const PoolConfig& cfg = reloads_.is_new(*p, *w) ? *reloads_.target(*p) : p->config;
      HeartbeatVerdict v = check_heartbeat(HeartbeatPolicy::from(cfg), w->live, t);
      switch (v) {
        case HeartbeatVerdict::kOk: break;
        case HeartbeatVerdict::kBecomeReady: mark_ready(*p, *w); break;
        case HeartbeatVerdict::kBootTimeout:
        case HeartbeatVerdict::kHung:
        case HeartbeatVerdict::kRequestTooOld: {
          bool reload_new = reloads_.is_new(*p, *w) && v == HeartbeatVerdict::kBootTimeout;
          kill_for_timeout(*p, *w, describe(v));
          if (reload_new) {
            rollback(*p, "worker slot " + std::to_string(w->slot) + " " + describe(v));
          }
          break;
        }
      }
    }
  }
  check_initial_ready();
  check_scale_waiters();
}

void Supervisor::manage_pools() {
  if (shutdown_.stopping()) return;
  for (auto& p : pools_) manage_pool(*p);
  check_initial_ready();
  check_scale_waiters();
}

void Supervisor::manage_pool(WorkerPool& pool) {
  if (shutdown_.stopping() || pool.state == PoolState::kFailed || pool.state == PoolState::kStopped) return;
  if (const PoolConfig* target = reloads_.target(pool)) {
    unsigned gen = RollingReload::new_generation(pool);
    ReloadPlan plan = plan_reload(pool.desired, target->max_surge, target->max_unavailable, gen,
                                  pool.views());
    for (unsigned slot : plan.stop) {
      if (Worker* w = pool.find_slot(slot)) stop_worker(pool, *w, true);
    }
    if (plan.done) {
      finish_reload(pool);
      return;
    }
    for (unsigned i = 0; i < plan.spawn; ++i) {
      // A copy: a failed spawn rolls the reload back, which frees the target.
      if (!spawn_worker(pool, PoolConfig(*target), gen)) return;
    }
    return;
  }
  ScalePlan plan = plan_scale(pool.desired, pool.views());
  for (unsigned slot : plan.stop) {
    if (Worker* w = pool.find_slot(slot)) stop_worker(pool, *w, true);
  }
  RespawnPlan respawn = plan_respawn(plan.spawn, pool.held, now());
  for (unsigned slot : respawn.release) release_held_slot(pool, slot);
  for (unsigned slot : respawn.into_held) {
    std::erase_if(pool.held, [slot](const HeldSlot& h) { return h.slot == slot; });
    if (!spawn_worker(pool, pool.config, pool.generation, slot)) return;
  }
  for (unsigned i = 0; i < respawn.fresh; ++i) {
    if (!spawn_worker(pool, pool.config, pool.generation)) return;
  }
}

void Supervisor::release_held_slot(WorkerPool& pool, unsigned slot) {
  std::erase_if(pool.held, [slot](const HeldSlot& h) { return h.slot == slot; });
  pool.slot_backoff.erase(slot);
  slots_.release(slot);
}

void Supervisor::fail_pool(WorkerPool& pool, const std::string& reason) {
  if (pool.state == PoolState::kFailed) return;
  pool.state = PoolState::kFailed;
  pool.state_reason = reason;
  spdlog::critical("pool [{}] FAILED: {}; not restarting it", pool.config.name, reason);
  events_.publish(SupervisorEvent::Kind::kPoolFailed, pool.config.name, 0, 0, reason);
  for (auto& w : pool.workers) {
    if (is_active(w->state)) stop_worker(pool, *w, true);
  }
  while (!pool.held.empty()) release_held_slot(pool, pool.held.front().slot);
  close_listeners(pool, /*for_good=*/false);
  if (reloads_.reloading(pool)) {
    reloads_.drop(pool);
    reload_ended(pool, reason);
  }
  for (auto it = scale_waiters_.begin(); it != scale_waiters_.end();) {
    if (it->pool == &pool) {
      it->done(Outcome::fail(ErrorCode::kFailedPrecondition, "pool " + pool.config.name + " failed: " + reason),
               it->result);
      it = scale_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  if (pools_.size() == 1) {
    // Gunicorn's HaltServer: a single app that cannot boot stops arbiterd.
    spdlog::critical("Reason: {}. Shutting down (exit {}).", reason, contract::kExitBootError);
    if (!shutdown_.stopping()) exit_.reason = "pool [" + pool.config.name + "] failed: " + reason;
    begin_stop(true, contract::kExitBootError);
  }
}

void Supervisor::check_scale_waiters() {
  for (auto it = scale_waiters_.begin(); it != scale_waiters_.end();) {
    if (it->pool->settled() || it->pool->desired != it->result.desired) {
      it->done(Outcome::success(), it->result);
      it = scale_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void Supervisor::check_initial_ready() {
  if (shutdown_.stopping() || (initial_ready_sent_ && upgrade_parent_told_)) return;
  bool all_ready = true;
  for (auto& p : pools_) {
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
