// What a reload of the config file changes besides the workers' settings:
// new pools start, removed pools drain and go, changed binds get their new
// listeners before the old ones close. Listeners are opened first, all or
// nothing: a file whose binds cannot be opened changes nothing.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {

StatusOr<Supervisor::PoolChanges> Supervisor::plan_pool_changes(const std::optional<Config>& fresh,
                                                                const std::vector<WorkerPool*>& targets,
                                                                bool every_pool) {
  PoolChanges changes;
  auto opened_any = false;
  auto undo = [&](const Status& why) -> StatusOr<PoolChanges> {
    if (opened_any) close_unused_listeners();
    return why;
  };
  for (WorkerPool* p : targets) {
    PoolChange c{p, std::nullopt, std::nullopt};
    if (fresh) {
      for (const auto& pc : fresh->pools) {
        if (pc.name == p->config.name) c.next = pc;
      }
      if (!c.next && every_pool) {
        changes.removed.push_back(p);
        continue;
      }
      if (!c.next) {
        // Named in a Reload RPC but gone from the file: a reload of the whole
        // file removes it; this one rolls it with its running configuration.
        spdlog::warn("reload: pool [{}] is gone from the configuration; reloading its running one", p->config.name);
        changes.reload.push_back(std::move(c));
        continue;
      }
      if (c.next->binds != p->config.binds) {
        if (!options_.open_listeners) {
          spdlog::warn("reload: pool [{}]: changed binds take effect on restart or upgrade", p->config.name);
          c.next->binds = p->config.binds;
        } else {
          StatusOr<PoolSockets> s = options_.open_listeners(c.next->binds);
          if (!s.ok()) return undo(Status::error("pool " + p->config.name + ": " + s.status().message()));
          opened_any = true;
          c.sockets = std::move(*s);
        }
      }
    }
    changes.reload.push_back(std::move(c));
  }
  if (fresh && every_pool) {
    const Config& now_running = options_.config;
    // The error log settings are set up again (reapply_logging) when main
    // gives apply_logging.
    const bool logging_changed = !options_.apply_logging && (fresh->error_logfile != now_running.error_logfile ||
                                                             fresh->log_level != now_running.log_level);
    if (fresh->control_socket != now_running.control_socket || fresh->control_bind != now_running.control_bind ||
        fresh->pid_file != now_running.pid_file || logging_changed || fresh->backlog != now_running.backlog) {
      spdlog::warn("reload: [arbiter] settings changed in the file take effect on restart or upgrade (USR2)");
    }
    for (const auto& pc : fresh->pools) {
      if (manager_.find_pool(pc.name) != nullptr) continue;
      if (!options_.open_listeners) {
        return undo(Status::error("new pool [" + pc.name + "]: adding pools needs a restart or upgrade"));
      }
      StatusOr<PoolSockets> s = options_.open_listeners(pc.binds);
      if (!s.ok()) return undo(Status::error("new pool " + pc.name + ": " + s.status().message()));
      opened_any = true;
      changes.added.emplace_back(pc, std::move(*s));
    }
  }
  return changes;
}

void Supervisor::apply_pool_changes(PoolChanges changes) {
  for (WorkerPool* p : changes.removed) remove_pool(*p);
  for (auto& [config, sockets] : changes.added) {
    std::string binds;
    for (const auto& b : sockets.specs) binds += (binds.empty() ? "" : ", ") + b;
    WorkerPool& pool = manager_.add_pool(std::move(config), std::move(sockets));
    spdlog::info("pool [{}]: added by reload: {} worker(s) listening at {}", pool.config.name, pool.desired,
                 binds.empty() ? "(no sockets)" : binds);
    events_.publish(SupervisorEvent::Kind::kPoolScaled, pool.config.name, 0, 0,
                    "0 -> " + std::to_string(pool.desired) + " (added by reload)");
    manage_pool(pool);
  }
  for (PoolChange& c : changes.reload) {
    if (c.sockets) {
      std::string binds;
      for (const auto& b : c.sockets->specs) binds += (binds.empty() ? "" : ", ") + b;
      spdlog::info("pool [{}]: new workers listen at {}; the old listeners close once the reload is done",
                   c.pool->config.name, binds);
    }
    const bool had_sockets = c.sockets.has_value();
    Status o = start_reload(*c.pool, std::move(c.next), std::move(c.sockets));
    if (!o.ok()) {
      spdlog::warn("reload: {}", o.message());
      reloads_.ended(*c.pool, o.message());  // a waiter must not wait for it
      if (had_sockets) close_unused_listeners();
    }
  }
}

void Supervisor::remove_pool(WorkerPool& pool) {
  if (reloads_.reloading(pool)) rollback(pool, "the pool was removed from the configuration");
  spdlog::info("pool [{}]: removed from the configuration: draining {} worker(s)", pool.config.name,
               pool.active_count());
  events_.publish(SupervisorEvent::Kind::kPoolScaled, pool.config.name, 0, 0,
                  std::to_string(pool.desired) + " -> 0 (removed by reload)");
  pool.removed = true;
  pool.desired = 0;
  pool.state = PoolState::kStopped;
  pool.state_reason = "removed from the configuration";
  manager_.stop_workers(pool);
  manager_.release_held_slots(pool);
  for (auto it = scale_waiters_.begin(); it != scale_waiters_.end();) {
    if (it->pool == &pool) {
      it->done(Status::error(StatusCode::kNotFound, "pool " + pool.config.name + " was removed"), it->result);
      it = scale_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void Supervisor::collect_removed_pools() {
  std::vector<const WorkerPool*> gone;
  for (auto& p : manager_.pools()) {
    if (p->removed && p->workers.empty() && !reloads_.reloading(*p)) gone.push_back(p.get());
  }
  for (const WorkerPool* p : gone) {
    spdlog::info("pool [{}]: drained and removed", p->config.name);
    manager_.erase_pool(p);
  }
  if (!gone.empty()) close_unused_listeners();
}

void Supervisor::close_unused_listeners() {
  if (!options_.close_listeners_except) return;
  std::vector<std::string> in_use = reloads_.target_specs();
  for (auto& p : manager_.pools()) in_use.insert(in_use.end(), p->sockets.specs.begin(), p->sockets.specs.end());
  options_.close_listeners_except(in_use);
}

}  // namespace greenfork::arbiter
