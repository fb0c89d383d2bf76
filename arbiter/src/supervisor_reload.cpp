// Rolling reload (HUP, Reload RPC) and its rollback.
#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {

void Supervisor::reload_from_signal() {
  if (shutdown_.stopping()) return;
  std::optional<Config> fresh;
  if (options_.reload_config) {
    StatusOr<Config> loaded = options_.reload_config();
    if (!loaded.ok()) {
      spdlog::error("reload: {}; keeping the running configuration", loaded.status().message());
      return;
    }
    fresh = std::move(*loaded);
  }
  std::vector<WorkerPool*> targets;
  for (auto& p : manager_.pools()) {
    if (!p->removed) targets.push_back(p.get());
  }
  StatusOr<PoolChanges> changes = plan_pool_changes(fresh, targets, /*every_pool=*/true);
  if (!changes.ok()) {
    spdlog::error("reload: {}; keeping the running configuration", changes.status().message());
    return;
  }
  if (fresh) reapply_logging(*fresh);
  apply_pool_changes(std::move(*changes));
}

void Supervisor::reapply_logging(const Config& fresh) {
  if (!options_.apply_logging) return;
  Config& now = options_.config;
  const bool changed = fresh.error_logfile != now.error_logfile || fresh.log_level != now.log_level ||
                       fresh.log_format != now.log_format || fresh.syslog != now.syslog ||
                       fresh.syslog_addr != now.syslog_addr || fresh.syslog_facility != now.syslog_facility ||
                       fresh.syslog_prefix != now.syslog_prefix || fresh.capture_output != now.capture_output;
  if (Status s = options_.apply_logging(fresh); !s.ok()) {
    spdlog::error("reload: arbiterd's error log unchanged: {}; keeping the old logging setup", s.message());
    return;
  }
  now.error_logfile = fresh.error_logfile;
  now.log_level = fresh.log_level;
  now.log_format = fresh.log_format;
  now.syslog = fresh.syslog;
  now.syslog_addr = fresh.syslog_addr;
  now.syslog_facility = fresh.syslog_facility;
  now.syslog_prefix = fresh.syslog_prefix;
  now.capture_output = fresh.capture_output;
  if (changed) {
    spdlog::info("reload: arbiterd's error log set up again (errorlog {}, loglevel {}, log_format {}{})",
                 now.error_logfile, now.log_level, now.log_format, now.syslog ? ", syslog " + now.syslog_addr : "");
  }
}

Status Supervisor::start_reload(WorkerPool& pool, std::optional<PoolConfig> next,
                                std::optional<PoolSockets> sockets) {
  if (shutdown_.stopping()) return Status::error(StatusCode::kUnavailable, "arbiterd is stopping");
  if (reloads_.reloading(pool)) {
    return Status::error(StatusCode::kFailedPrecondition,
                         "pool " + pool.config.name + ": a reload is already running");
  }
  // A failed pool's workers-to-be need its listeners back.
  if (Status s = reopen_listeners(pool); !s.ok()) {
    return Status::error(StatusCode::kUnavailable, "pool " + pool.config.name + ": " + s.message());
  }
  if (!reloads_.any()) notify_systemd("RELOADING=1");
  std::optional<RollingReload::Count> count;
  if (next) count = RollingReload::worker_count(pool, *next);
  reloads_.begin(pool, std::move(next), std::move(sockets));
  ++pool.metrics.reloads;
  const PoolConfig& target = *reloads_.target(pool);
  if (count) {
    pool.desired = count->desired;
    spdlog::info("pool [{}]: reload: {}", pool.config.name, count->why);
  }
  unsigned gen = RollingReload::new_generation(pool);
  spdlog::info("pool [{}]: reloading {} worker(s) to generation {} (max_surge {}, max_unavailable {})",
               pool.config.name, pool.desired, gen, target.max_surge, target.max_unavailable);
  events_.publish(SupervisorEvent::Kind::kPoolReloading, pool.config.name, 0, 0, "generation " + std::to_string(gen));
  manage_pool(pool);
  return Status();
}

void Supervisor::finish_reload(WorkerPool& pool) {
  const bool new_listeners = !reloads_.target_sockets(pool).specs.empty() &&
                             reloads_.target_sockets(pool).specs != pool.sockets.specs;
  reloads_.finish(pool);
  // The old workers all have TERM: arbiterd's copies of listeners no pool
  // uses any more close now, the workers' as they finish draining.
  if (new_listeners) close_unused_listeners();
  pool.slot_backoff.clear();  // the new configuration's back-off, from zero
  if (!pool.config.autoscale.enabled()) {
    pool.autoscaler.reset();
  } else if (!pool.autoscaler || !(pool.autoscaler->config() == pool.config.autoscale)) {
    pool.autoscaler.emplace(pool.config.autoscale);
  } else {
    pool.autoscaler->reset();
  }
  spdlog::info("pool [{}]: reloaded (generation {})", pool.config.name, pool.generation);
  events_.publish(SupervisorEvent::Kind::kPoolReloaded, pool.config.name, 0, 0,
       "generation " + std::to_string(pool.generation));
  reload_ended(pool, "");
}

void Supervisor::rollback(WorkerPool& pool, const std::string& reason) {
  if (!reloads_.reloading(pool)) return;
  for (auto& w : pool.workers) {
    if (reloads_.is_new(pool, *w) && is_active(w->state)) manager_.stop_worker(pool, *w, true);
  }
  const bool new_listeners = reloads_.target_sockets(pool).specs != pool.sockets.specs;
  reloads_.roll_back(pool);
  if (new_listeners) close_unused_listeners();  // the new ones nobody uses now
  pool.state_reason = "reload rolled back: " + reason;
  if (pool.state == PoolState::kFailed) close_listeners(pool, /*for_good=*/false);
  spdlog::error("pool [{}]: reload rolled back: {}; the old workers keep serving", pool.config.name, reason);
  events_.publish(SupervisorEvent::Kind::kPoolRolledBack, pool.config.name, 0, 0, reason);
  reload_ended(pool, reason);
}

void Supervisor::reload_ended(WorkerPool& pool, const std::string& rollback_reason) {
  reloads_.ended(pool, rollback_reason);
  if (!reloads_.any()) notify_systemd("READY=1");
}

}  // namespace greenfork::arbiter
