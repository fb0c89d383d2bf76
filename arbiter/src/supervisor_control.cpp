// The ControlTarget side: what gctl and the gRPC services ask for.
#include <unistd.h>

#include <chrono>
#include <csignal>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/metrics/proc_sample.hpp"
#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/signals.hpp"

#ifndef GF_VERSION
#define GF_VERSION "0.1.0"
#endif

namespace greenfork::arbiter {

ArbiterSnapshot Supervisor::status() const {
  MonoTime t = now();
  ArbiterSnapshot snap;
  snap.pid = ::getpid();
  snap.version = GF_VERSION;
  snap.uptime_seconds = (t - started_at_).count();
  snap.start_unix_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      snap.uptime_seconds;
  snap.name = options_.config.name;
  for (const auto& p : manager_.pools()) {
    PoolSnapshot ps;
    ps.name = p->config.name;
    ps.command = p->config.command;
    ps.desired = p->desired;
    ps.running = static_cast<unsigned>(p->workers.size());
    ps.ready = p->ready_count();
    ps.state = p->state;
    ps.state_reason = p->state_reason;
    ps.restarts = p->restarts;
    ps.binds = p->sockets.specs.empty() ? p->config.binds : p->sockets.specs;
    ps.heartbeat = to_string(p->config.heartbeat);
    ps.max_workers = p->config.max_workers;
    ps.requests = p->metrics.retired;
    ps.requests_unclassified = p->metrics.retired_unclassified;
    ps.restarts_by_reason = p->metrics.restarts;
    ps.reloads = p->metrics.reloads;
    for (size_t i = 0; i < p->sockets.fds.size() && i < p->sockets.specs.size(); ++i) {
      if (auto q = tcp_accept_queue(p->sockets.fds[i])) ps.listen_queues.push_back({p->sockets.specs[i], *q});
    }
    for (const auto& w : p->workers) {
      WorkerSnapshot ws;
      ws.slot = w->slot;
      ws.pid = w->pid;
      ws.state = w->state;
      ws.uptime_seconds = (t - w->live.started_at).count();
      ws.last_heartbeat_age_seconds = w->live.last_beat ? (t - *w->live.last_beat).count() : -1;
      ws.requests_served = w->requests_served;
      ws.requests_in_flight = w->requests_in_flight;
      ws.rss_bytes = w->rss_bytes;
      if (ws.rss_bytes == 0) ws.rss_bytes = ops_.rss_bytes(w->pid).value_or(0);
      ws.generation = w->generation;
      ws.status_text = w->status_text;
      ws.oldest_request_age_seconds = w->requests_in_flight > 0 ? w->live.oldest_request_age.count() : 0;
      ws.connections = w->metrics.connections;
      ws.requests_per_second = w->metrics.requests_per_second;
      ws.cpu_seconds = process_cpu_seconds(w->pid).value_or(-1);
      ps.requests.add(w->metrics.counters);
      ps.requests_unclassified += unclassified(w->metrics, w->requests_served);
      ps.workers.push_back(std::move(ws));
    }
    snap.pools.push_back(std::move(ps));
  }
  return snap;
}

void Supervisor::scale(const ScaleCommand& command, std::function<void(Status, ScaleResult)> done) {
  ScaleResult result;
  result.pool = command.pool;
  if (shutdown_.stopping()) return done(Status::error(StatusCode::kUnavailable, "arbiterd is stopping"), result);
  WorkerPool* pool = nullptr;
  if (command.pool.empty()) {
    if (manager_.pools().size() != 1) {
      return done(Status::error(StatusCode::kInvalidArgument,
                                "there are " + std::to_string(manager_.pools().size()) + " pools: name one"),
                  result);
    }
    pool = manager_.pools().front().get();
  } else {
    pool = manager_.find_pool(command.pool);
    if (pool == nullptr || pool->removed) {
      return done(Status::error(StatusCode::kNotFound, "unknown pool '" + command.pool + "'"), result);
    }
  }
  result.pool = pool->config.name;
  result.previous = pool->desired;
  long target = command.relative ? static_cast<long>(pool->desired) + command.delta
                                 : static_cast<long>(command.count);
  if (target < 0) {
    return done(Status::error(StatusCode::kInvalidArgument,
                              "pool " + pool->config.name + ": cannot scale below 0 (now " +
                                  std::to_string(pool->desired) + ")"),
                result);
  }
  if (target > static_cast<long>(pool->config.max_workers)) {
    return done(Status::error(StatusCode::kInvalidArgument,
                              "pool " + pool->config.name + ": " + std::to_string(target) +
                                  " is above max_workers " + std::to_string(pool->config.max_workers)),
                result);
  }
  // An autoscaled pool: a manual scale moves the target within the bounds
  // (the autoscaler goes on from there); the bounds are the config's.
  if (const AutoscaleConfig& a = pool->config.autoscale;
      a.enabled() && (target < static_cast<long>(a.min) || target > static_cast<long>(a.max))) {
    return done(Status::error(StatusCode::kInvalidArgument,
                              "pool " + pool->config.name + " autoscales between " + std::to_string(a.min) +
                                  " and " + std::to_string(a.max) + " workers: " + std::to_string(target) +
                                  " is outside (change autoscale in the config and reload)"),
                result);
  }
  if (pool->state == PoolState::kFailed) {
    return done(Status::error(StatusCode::kFailedPrecondition,
                              "pool " + pool->config.name + " failed (" + pool->state_reason +
                                  "); reload it after fixing the cause"),
                result);
  }
  pool->desired = static_cast<unsigned>(target);
  result.desired = pool->desired;
  if (pool->autoscaler) pool->autoscaler->reset();
  if (pool->state == PoolState::kStopped && target > 0) {
    pool->state = PoolState::kRunning;
    pool->state_reason.clear();
  } else if (pool->state == PoolState::kRunning && target == 0) {
    pool->state = PoolState::kStopped;
    pool->state_reason = "scaled to 0";
    manager_.stop_workers(*pool);
  }
  spdlog::info("pool [{}]: scaled {} -> {}", pool->config.name, result.previous, result.desired);
  events_.publish(SupervisorEvent::Kind::kPoolScaled, pool->config.name, 0, 0,
       std::to_string(result.previous) + " -> " + std::to_string(result.desired));
  manage_pool(*pool);
  if (!command.wait || pool->settled() || target == 0) return done(Status(), result);
  scale_waiters_.push_back({pool, result, std::move(done)});
}

void Supervisor::reload(const std::string& pool_name, bool wait,
                        std::function<void(Status, std::vector<std::string>)> done) {
  std::vector<WorkerPool*> targets;
  if (pool_name.empty()) {
    for (auto& p : manager_.pools()) {
      if (!p->removed) targets.push_back(p.get());
    }
  } else if (WorkerPool* p = manager_.find_pool(pool_name); p != nullptr && !p->removed) {
    targets.push_back(p);
  } else {
    return done(Status::error(StatusCode::kNotFound, "unknown pool '" + pool_name + "'"), {});
  }
  for (WorkerPool* p : targets) {
    if (reloads_.reloading(*p)) {
      return done(Status::error(StatusCode::kFailedPrecondition,
                                "pool " + p->config.name + ": a reload is already running"),
                  {});
    }
  }
  if (shutdown_.stopping()) return done(Status::error(StatusCode::kUnavailable, "arbiterd is stopping"), {});
  // Like HUP: a config file is read again, so a reload picks up a changed
  // command (H3: the Reload RPC used to restart with the running config).
  std::optional<Config> fresh;
  if (options_.reload_config) {
    StatusOr<Config> loaded = options_.reload_config();
    if (!loaded.ok()) {
      return done(Status::error(StatusCode::kFailedPrecondition,
                                "reload: " + loaded.status().message() +
                                    "; keeping the running configuration"),
                  {});
    }
    fresh = std::move(*loaded);
  }
  // The whole file (no pool named): pools are added and removed too.
  StatusOr<PoolChanges> changes = plan_pool_changes(fresh, targets, /*every_pool=*/pool_name.empty());
  if (!changes.ok()) {
    return done(Status::error(StatusCode::kFailedPrecondition,
                              "reload: " + changes.status().message() + "; keeping the running configuration"),
                {});
  }
  std::vector<std::string> names;
  std::vector<const WorkerPool*> rolled;
  for (const PoolChange& c : changes->reload) {
    names.push_back(c.pool->config.name);
    rolled.push_back(c.pool);
  }
  if (wait) reloads_.wait(rolled, names, std::move(done));
  if (fresh && pool_name.empty()) reapply_logging(*fresh);
  apply_pool_changes(std::move(*changes));
  if (!wait) done(Status(), names);
}

Status Supervisor::stop(bool graceful) {
  begin_stop(graceful, 0);
  return Status();
}

Status Supervisor::reopen_logs() {
  if (options_.reopen_logs) options_.reopen_logs();
  spdlog::info("Reopened log files; forwarding USR1 to workers");
  for (auto& p : manager_.pools()) {
    for (auto& w : p->workers) {
      if (w->commands) w->commands(WorkerCommandKind::kReopenLogs);
      (void)ops_.kill_group(w->pid, SIGUSR1);
    }
  }
  return Status();
}

Status Supervisor::signal(const std::string& pool_name, const std::string& signal_name,
                           unsigned* count) {
  std::optional<int> signo = parse_signal(signal_name);
  if (!signo) return Status::error(StatusCode::kInvalidArgument, "unknown signal '" + signal_name + "'");
  std::vector<WorkerPool*> targets;
  if (pool_name.empty()) {
    for (auto& p : manager_.pools()) targets.push_back(p.get());
  } else if (WorkerPool* p = manager_.find_pool(pool_name)) {
    targets.push_back(p);
  } else {
    return Status::error(StatusCode::kNotFound, "unknown pool '" + pool_name + "'");
  }
  unsigned n = 0;
  for (WorkerPool* p : targets) {
    for (auto& w : p->workers) {
      if (ops_.kill_group(w->pid, *signo).ok()) ++n;
    }
  }
  spdlog::info("Sent {} to {} worker(s)", greenfork::signal_name(*signo), n);
  if (count != nullptr) *count = n;
  return Status();
}

uint64_t Supervisor::subscribe(std::function<void(const SupervisorEvent&)> listener) {
  return events_.subscribe(std::move(listener));
}

void Supervisor::unsubscribe(uint64_t id) { events_.unsubscribe(id); }

Status Supervisor::worker_beat(const HeartbeatReport& report, bool first,
                                std::function<void(WorkerCommandKind)> commands) {
  WorkerPool* pool = nullptr;
  Worker* worker = nullptr;
  if (first || !report.token.empty()) {
    for (auto& p : manager_.pools()) {
      for (auto& w : p->workers) {
        if (!report.token.empty() && w->token == report.token) {
          pool = p.get();
          worker = w.get();
        }
      }
    }
    if (worker == nullptr) return Status::error(StatusCode::kUnauthenticated, "unknown worker token");
    if (worker->slot != report.slot) {
      return Status::error(StatusCode::kPermissionDenied,
                           "token belongs to slot " + std::to_string(worker->slot) + ", not slot " +
                               std::to_string(report.slot));
    }
  } else {
    for (auto& p : manager_.pools()) {
      if (Worker* w = p->find_slot(report.slot)) {
        pool = p.get();
        worker = w;
      }
    }
    if (worker == nullptr) {
      return Status::error(StatusCode::kPermissionDenied,
                           "slot " + std::to_string(report.slot) + " is not a live worker");
    }
  }
  Worker& w = *worker;
  MonoTime t = now();
  if (first) w.commands = std::move(commands);
  w.live.spoke = true;
  w.live.watchdog = true;
  w.live.last_beat = t;
  w.requests_served = report.requests_served;
  w.metrics.on_served(report.requests_served, t);
  w.requests_in_flight = report.requests_in_flight;
  w.live.oldest_request_age = Seconds(report.oldest_request_age_seconds);
  w.live.oldest_request_seen_at = t;
  if (report.rss_bytes > 0) w.rss_bytes = report.rss_bytes;
  if (!report.status_text.empty()) w.status_text = report.status_text;
  if (w.state == WorkerState::kStarting) manager_.mark_ready(*pool, w);
  if (report.stopping && is_active(w.state)) {
    w.state = WorkerState::kDraining;
    w.kill_at = t + Seconds(pool->config.graceful_timeout_seconds);
  }
  manage_pools();
  return Status();
}

void Supervisor::worker_stream_closed(unsigned slot) {
  for (auto& p : manager_.pools()) {
    if (Worker* w = p->find_slot(slot)) w->commands = nullptr;
  }
}

}  // namespace greenfork::arbiter
