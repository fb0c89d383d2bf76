// The pool manager: spawn, stop, liveness, reaping, and bringing each pool
// to its target (pool_manager.hpp).
#include "greenfork/arbiter/pool_manager.hpp"

#include <algorithm>
#include <csignal>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/worker_spawn_spec.hpp"
#include "greenfork/signals.hpp"

extern char** environ;

namespace greenfork::arbiter {
namespace {

constexpr Seconds kAbortGrace{1.0};  // SIGABRT -> SIGKILL for a hung worker

}  // namespace

PoolManager::PoolManager(ProcessOps& ops, EventFeed& events, const ArbiterOptions& options)
    : ops_(ops), events_(events), control_socket_(options.control_socket) {
  for (size_t i = 0; i < options.config.pools.size(); ++i) {
    PoolSockets sockets = i < options.sockets.size() ? options.sockets[i] : PoolSockets{};
    pools_.push_back(std::make_unique<WorkerPool>(options.config.pools[i], std::move(sockets)));
  }
}

WorkerPool* PoolManager::find_pool(const std::string& name) {
  for (auto& p : pools_) {
    if (p->config.name == name) return p.get();
  }
  return nullptr;
}

std::pair<WorkerPool*, Worker*> PoolManager::find_worker(pid_t pid) {
  for (auto& p : pools_) {
    if (Worker* w = p->find_pid(pid)) return {p.get(), w};
  }
  return {nullptr, nullptr};
}

WorkerPool& PoolManager::add_pool(PoolConfig config, PoolSockets sockets) {
  pools_.push_back(std::make_unique<WorkerPool>(std::move(config), std::move(sockets)));
  return *pools_.back();
}

void PoolManager::erase_pool(const WorkerPool* pool) {
  std::erase_if(pools_, [pool](const auto& p) { return p.get() == pool; });
}

Status PoolManager::spawn_worker(WorkerPool& pool, const PoolConfig& config, unsigned generation,
                                 std::optional<unsigned> held_slot, const PoolSockets* sockets) {
  auto w = std::make_unique<Worker>();
  w->slot = held_slot ? *held_slot : slots_.acquire();
  w->token = ops_.random_token();
  w->generation = generation;
  std::vector<std::string> environment;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) environment.emplace_back(*e);
  WorkerSlot who{w->slot, w->token, notify_address_, control_socket_};
  StatusOr<SpawnSpec> spec = worker_spawn_spec(config, sockets != nullptr ? *sockets : pool.sockets, who, environment);
  StatusOr<pid_t> pid = spec.ok() ? ops_.spawn(*spec) : StatusOr<pid_t>(spec.status());
  if (!pid.ok()) {
    slots_.release(w->slot);
    spdlog::error("pool [{}]: cannot start worker: {}", config.name, pid.status().message());
    return pid.status();
  }
  w->pid = *pid;
  w->live.started_at = now();
  spdlog::info("Booting worker with pid: {} slot {} [{}]", w->pid, w->slot, config.name);
  events_.publish(SupervisorEvent::Kind::kWorkerSpawned, config.name, w->slot, w->pid,
                  "generation " + std::to_string(generation));
  pool.workers.push_back(std::move(w));
  return {};
}

void PoolManager::stop_worker(WorkerPool& pool, Worker& w, bool graceful) {
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

void PoolManager::stop_workers(WorkerPool& pool) {
  for (auto& w : pool.workers) {
    if (is_active(w->state)) stop_worker(pool, *w, true);
  }
}

void PoolManager::kill_for_timeout(WorkerPool& pool, Worker& w, const std::string& why) {
  spdlog::critical("WORKER TIMEOUT (pid:{}) slot {} [{}]: {}", w.pid, w.slot, pool.config.name, why);
  events_.publish(SupervisorEvent::Kind::kWorkerTimedOut, pool.config.name, w.slot, w.pid, why);
  w.metrics.stop_cause = StopCause::kHeartbeatTimeout;
  w.state = WorkerState::kStopping;
  w.kill_at = now() + kAbortGrace;
  (void)ops_.kill_process(w.pid, SIGABRT);
}

void PoolManager::mark_ready(WorkerPool& pool, Worker& w) {
  if (w.state != WorkerState::kStarting) return;
  w.state = WorkerState::kReady;
  w.live.ready_at = now();
  spdlog::info("Worker ready (pid: {}) slot {} [{}] after {:.2f}s", w.pid, w.slot, pool.config.name,
               (*w.live.ready_at - w.live.started_at).count());
  events_.publish(SupervisorEvent::Kind::kWorkerReady, pool.config.name, w.slot, w.pid, "");
}

void PoolManager::apply_notify(WorkerPool& pool, Worker& w, const NotifyMessage& m) {
  w.live.spoke = true;
  if (m.status) w.status_text = *m.status;
  if (m.requests_served) w.requests_served = *m.requests_served;
  if (m.requests_in_flight) w.requests_in_flight = *m.requests_in_flight;
  w.metrics.on_beat(m, now());
  if (m.request_seconds) w.load.sample(now(), *m.request_seconds);
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
    // (gworker does after max_requests.)
    if (w.metrics.stop_cause == StopCause::kNone) w.metrics.stop_cause = StopCause::kMaxRequests;
    w.state = WorkerState::kDraining;
    w.kill_at = now() + Seconds(pool.config.graceful_timeout_seconds);
  }
}

Status PoolManager::manage_workers(WorkerPool& pool) {
  // Workers being replaced do not count: their successors start now.
  ScalePlan plan = plan_scale(pool.desired, pool.kept_views());
  for (unsigned slot : plan.stop) {
    if (Worker* w = pool.find_slot(slot)) stop_worker(pool, *w, true);
  }
  RespawnPlan respawn = plan_respawn(plan.spawn, pool.held, now());
  for (unsigned slot : respawn.release) release_held_slot(pool, slot);
  for (unsigned slot : respawn.into_held) {
    std::erase_if(pool.held, [slot](const HeldSlot& h) { return h.slot == slot; });
    if (Status s = spawn_worker(pool, pool.config, pool.generation, slot); !s.ok()) return s;
  }
  for (unsigned i = 0; i < respawn.fresh; ++i) {
    if (Status s = spawn_worker(pool, pool.config, pool.generation); !s.ok()) return s;
  }
  retire_replaced(pool);
  return {};
}

std::vector<MemoryView> PoolManager::memory_views(const WorkerPool& pool, bool sample) {
  std::vector<MemoryView> views;
  for (const auto& w : pool.workers) {
    uint64_t rss = 0;
    if (sample && w->state == WorkerState::kReady) rss = ops_.rss_bytes(w->pid).value_or(w->rss_bytes);
    views.push_back({w->slot, w->state, w->live.started_at, rss, !w->restart_reason.empty()});
  }
  return views;
}

void PoolManager::retire_replaced(WorkerPool& pool) {
  if (std::none_of(pool.workers.begin(), pool.workers.end(),
                   [](auto& w) { return !w->restart_reason.empty() && is_active(w->state); })) {
    return;
  }
  MemoryPlan plan = plan_memory_restarts(0, pool.desired, memory_views(pool, false));
  for (unsigned slot : plan.stop) {
    Worker* w = pool.find_slot(slot);
    if (w == nullptr || !is_active(w->state)) continue;
    spdlog::info("pool [{}]: slot {} (pid {}) replaced ({}): its successor is READY", pool.config.name, slot,
                 w->pid, w->restart_reason);
    stop_worker(pool, *w, true);
  }
}

void PoolManager::check_memory(WorkerPool& pool) {
  const uint64_t limit = pool.config.max_worker_memory_bytes;
  if (limit == 0) return;
  std::vector<MemoryView> views = memory_views(pool, true);
  MemoryPlan plan = plan_memory_restarts(limit, pool.desired, views);
  for (unsigned slot : plan.replace) {
    Worker* w = pool.find_slot(slot);
    if (w == nullptr) continue;
    uint64_t rss = 0;
    for (const MemoryView& v : views) {
      if (v.slot == slot) rss = v.rss_bytes;
    }
    w->rss_bytes = rss;
    replace_worker(pool, *w, "memory",
                   "RSS " + describe_bytes(rss) + " is above max_worker_memory " + describe_bytes(limit));
  }
}

void PoolManager::replace_worker(WorkerPool& pool, Worker& w, const std::string& reason,
                                 const std::string& why) {
  w.restart_reason = reason;
  if (reason == "memory") w.metrics.stop_cause = StopCause::kMemory;
  ++pool.restarts;
  spdlog::warn("pool [{}]: restarting worker (pid: {}) slot {}, reason {}: {}; its successor starts first",
               pool.config.name, w.pid, w.slot, reason, why);
  events_.publish(SupervisorEvent::Kind::kWorkerRestarting, pool.config.name, w.slot, w.pid,
                  "reason=" + reason + ": " + why, reason);
}

PoolManager::ReloadStep PoolManager::reload_step(WorkerPool& pool, const PoolConfig& target,
                                                 unsigned generation, const PoolSockets& sockets) {
  ReloadStep step;
  ReloadPlan plan = plan_reload(pool.desired, target.max_surge, target.max_unavailable, generation,
                                pool.views());
  for (unsigned slot : plan.stop) {
    if (Worker* w = pool.find_slot(slot)) stop_worker(pool, *w, true);
  }
  step.done = plan.done;
  if (plan.done) return step;
  for (unsigned i = 0; i < plan.spawn && step.spawn.ok(); ++i) {
    step.spawn = spawn_worker(pool, target, generation, std::nullopt, &sockets);
  }
  return step;
}

void PoolManager::murder_workers(const ConfigOf& config_of, const OnTimeout& on_timeout) {
  MonoTime t = now();
  for (auto& p : pools_) {
    // Snapshot the pointers: on_timeout may stop or roll back workers.
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
      HeartbeatVerdict v = check_heartbeat(HeartbeatPolicy::from(config_of(*p, *w)), w->live, t);
      switch (v) {
        case HeartbeatVerdict::kOk: break;
        case HeartbeatVerdict::kBecomeReady: mark_ready(*p, *w); break;
        case HeartbeatVerdict::kBootTimeout:
        case HeartbeatVerdict::kHung:
        case HeartbeatVerdict::kRequestTooOld:
          kill_for_timeout(*p, *w, describe(v));
          if (on_timeout) on_timeout(*p, *w, v);
          break;
      }
    }
  }
}

PoolManager::Exit PoolManager::worker_exited(WorkerPool& pool, pid_t pid, int wait_status, bool reload_new,
                                             bool stopping) {
  std::unique_ptr<Worker> w = pool.remove(pid);
  // Whatever the worker left in its process group goes with it.
  (void)ops_.kill_group(pid, SIGKILL);
  std::string meaning = describe_wait_status(wait_status);
  Exit exit;
  exit.action = decide_exit(wait_status, w->state, reload_new);
  Seconds uptime = now() - w->live.started_at;
  if (exit.action == ExitAction::kExpected) {
    spdlog::info("Worker exited (pid: {}) slot {} [{}]: {}", pid, w->slot, pool.config.name, meaning);
  } else {
    spdlog::error("Worker exited (pid: {}) slot {} [{}]: {} after {:.1f}s", pid, w->slot,
                  pool.config.name, meaning, uptime.count());
  }
  events_.publish(SupervisorEvent::Kind::kWorkerExited, pool.config.name, w->slot, pid, meaning);
  exit.reason = "worker slot " + std::to_string(w->slot) + " pid " + std::to_string(pid) + " " + meaning;
  // What the worker said last is why it failed ("Failed to find application ...").
  if (!w->status_text.empty()) exit.reason = w->status_text + " (" + exit.reason + ")";
  pool.metrics.retire(w->metrics, w->requests_served);
  if (!stopping) {
    const auto why = classify_restart(w->metrics.stop_cause, exit.action == ExitAction::kRespawn, wait_status);
    if (why) pool.metrics.count_restart(*why);
  }
  if (stopping || exit.action != ExitAction::kRespawn) {
    slots_.release(w->slot);
    pool.slot_backoff.erase(w->slot);
    return exit;
  }
  // A crashed worker's slot is held for its replacement (manage_workers).
  ++pool.restarts;
  Backoff& backoff = pool.backoff_of(w->slot);
  Seconds delay = backoff.on_crash(uptime, w->live.ready(), now());
  pool.held.push_back({w->slot, now() + delay});
  if (delay > Seconds(0)) {
    spdlog::warn("pool [{}]: slot {} crashed {} time(s) in a row before READY; restarting it in {:.2f}s",
                 pool.config.name, w->slot, backoff.fast_crashes(), delay.count());
  }
  return exit;
}

void PoolManager::release_held_slot(WorkerPool& pool, unsigned slot) {
  std::erase_if(pool.held, [slot](const HeldSlot& h) { return h.slot == slot; });
  pool.slot_backoff.erase(slot);
  slots_.release(slot);
}

void PoolManager::release_held_slots(WorkerPool& pool) {
  while (!pool.held.empty()) release_held_slot(pool, pool.held.front().slot);
}

}  // namespace greenfork::arbiter
