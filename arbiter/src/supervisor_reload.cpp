// Rolling reload (HUP, Reload RPC) and its rollback.
#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {

void Supervisor::reload_from_signal() {
  if (stopping_) return;
  std::optional<Config> fresh;
  if (options_.reload_config) {
    StatusOr<Config> loaded = options_.reload_config();
    if (!loaded.ok()) {
      spdlog::error("reload: {}; keeping the running configuration", loaded.status().message());
      return;
    }
    fresh = std::move(*loaded);
    for (const auto& pc : fresh->pools) {
      if (find_pool(pc.name) == nullptr) {
        spdlog::warn("reload: new pool [{}] ignored: adding pools needs a restart or upgrade", pc.name);
      }
    }
  }
  for (auto& p : pools_) {
    std::optional<PoolConfig> next;
    if (fresh) {
      for (const auto& pc : fresh->pools) {
        if (pc.name == p->config.name) next = pc;
      }
      if (!next) {
        spdlog::warn("reload: pool [{}] is gone from the configuration; it keeps running", p->config.name);
        continue;
      }
      if (next->binds != p->config.binds) {
        spdlog::warn("reload: pool [{}]: changed binds take effect on restart or upgrade", p->config.name);
        next->binds = p->config.binds;
      }
    }
    Outcome o = start_reload(*p, std::move(next));
    if (!o.ok()) spdlog::warn("reload: {}", o.message);
  }
}

Outcome Supervisor::start_reload(WorkerPool& pool, std::optional<PoolConfig> next) {
  if (stopping_) return Outcome::fail(ErrorCode::kUnavailable, "arbiterd is stopping");
  if (pool.reloading()) {
    return Outcome::fail(ErrorCode::kFailedPrecondition,
                         "pool " + pool.config.name + ": a reload is already running");
  }
  // A failed pool's workers-to-be need its listeners back.
  if (Status s = reopen_listeners(pool); !s.ok()) {
    return Outcome::fail(ErrorCode::kUnavailable, "pool " + pool.config.name + ": " + s.message());
  }
  pool.desired_before_reload = pool.desired;
  if (next) pool.desired = next->workers;
  pool.reload_config = next ? std::move(*next) : pool.config;
  pool.state_before_reload = pool.state == PoolState::kFailed ? PoolState::kFailed : PoolState::kRunning;
  pool.state = PoolState::kReloading;
  if (!systemd_reloading_) {
    systemd_reloading_ = true;
    notify_systemd("RELOADING=1");
  }
  spdlog::info("pool [{}]: reloading {} worker(s) to generation {} (max_surge {}, max_unavailable {})",
               pool.config.name, pool.desired, pool.reload_generation(), pool.reload_config->max_surge,
               pool.reload_config->max_unavailable);
  emit(SupervisorEvent::Kind::kPoolReloading, pool.config.name, 0, 0,
       "generation " + std::to_string(pool.reload_generation()));
  manage_pool(pool);
  return Outcome::success();
}

void Supervisor::finish_reload(WorkerPool& pool) {
  pool.config = std::move(*pool.reload_config);
  pool.reload_config.reset();
  ++pool.generation;
  pool.state = PoolState::kRunning;
  pool.state_reason.clear();
  pool.slot_backoff.clear();  // the new configuration's back-off, from zero
  spdlog::info("pool [{}]: reloaded (generation {})", pool.config.name, pool.generation);
  emit(SupervisorEvent::Kind::kPoolReloaded, pool.config.name, 0, 0,
       "generation " + std::to_string(pool.generation));
  reload_ended(pool, "");
}

void Supervisor::rollback(WorkerPool& pool, const std::string& reason) {
  if (!pool.reloading()) return;
  unsigned gen = pool.reload_generation();
  for (auto& w : pool.workers) {
    if (w->generation == gen && is_active(w->state)) stop_worker(pool, *w, true);
  }
  pool.reload_config.reset();
  pool.desired = pool.desired_before_reload;
  pool.state = pool.state_before_reload;
  pool.state_reason = "reload rolled back: " + reason;
  if (pool.state == PoolState::kFailed) close_listeners(pool, /*for_good=*/false);
  spdlog::error("pool [{}]: reload rolled back: {}; the old workers keep serving", pool.config.name, reason);
  emit(SupervisorEvent::Kind::kPoolRolledBack, pool.config.name, 0, 0, reason);
  reload_ended(pool, reason);
}

void Supervisor::reload_ended(WorkerPool& pool, const std::string& rollback_reason) {
  for (auto it = reload_waiters_.begin(); it != reload_waiters_.end();) {
    auto& pending = it->pending;
    bool mine = std::erase(pending, &pool) > 0;
    if (mine && !rollback_reason.empty() && it->rolled_back.empty()) {
      it->rolled_back = "pool " + pool.config.name + ": reload rolled back: " + rollback_reason;
    }
    if (pending.empty()) {
      if (it->rolled_back.empty()) {
        it->done(Outcome::success(), it->names);
      } else {
        it->done(Outcome::fail(ErrorCode::kAborted, it->rolled_back), it->names);
      }
      it = reload_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  bool any_reloading = false;
  for (auto& p : pools_) any_reloading = any_reloading || p->reloading();
  if (!any_reloading && systemd_reloading_) {
    systemd_reloading_ = false;
    notify_systemd("READY=1");
  }
}

}  // namespace greenfork::arbiter
