#include "greenfork/arbiter/rolling_reload.hpp"

#include <algorithm>

namespace greenfork::arbiter {

const PoolConfig* RollingReload::target(const WorkerPool& pool) const {
  auto it = rollouts_.find(&pool);
  return it == rollouts_.end() ? nullptr : &it->second.config;
}

RollingReload::Count RollingReload::worker_count(const WorkerPool& pool, const PoolConfig& next) {
  Count c;
  if (next.workers != pool.config.workers) {
    c.desired = next.workers;
    c.why = "workers changed in the file (" + std::to_string(pool.config.workers) + " -> " +
            std::to_string(next.workers) + "): " + std::to_string(next.workers) + " worker(s)";
  } else {
    c.desired = pool.desired;
    c.why = "workers unchanged in the file (" + std::to_string(next.workers) + "): keeping the current " +
            std::to_string(pool.desired) + " worker(s)";
  }
  const unsigned in_bounds = Autoscaler(next.autoscale).clamp(c.desired);
  if (in_bounds != c.desired) {
    c.why += ", brought to " + std::to_string(in_bounds) + " by autoscale " +
             std::to_string(next.autoscale.min) + ":" + std::to_string(next.autoscale.max);
    c.desired = in_bounds;
  }
  if (c.desired > next.max_workers) {
    c.why += ", brought to max_workers " + std::to_string(next.max_workers);
    c.desired = next.max_workers;
  }
  return c;
}

const PoolSockets& RollingReload::target_sockets(const WorkerPool& pool) const {
  auto it = rollouts_.find(&pool);
  return it == rollouts_.end() || !it->second.sockets ? pool.sockets : *it->second.sockets;
}

std::vector<std::string> RollingReload::target_specs() const {
  std::vector<std::string> specs;
  for (const auto& [pool, r] : rollouts_) {
    if (r.sockets) specs.insert(specs.end(), r.sockets->specs.begin(), r.sockets->specs.end());
  }
  return specs;
}

void RollingReload::begin(WorkerPool& pool, std::optional<PoolConfig> next, std::optional<PoolSockets> sockets) {
  Rollout r;
  r.sockets = std::move(sockets);
  r.desired_before = pool.desired;
  r.state_before = pool.state == PoolState::kFailed ? PoolState::kFailed : PoolState::kRunning;
  r.config = next ? std::move(*next) : pool.config;
  pool.state = PoolState::kReloading;
  rollouts_[&pool] = std::move(r);
}

void RollingReload::finish(WorkerPool& pool) {
  auto it = rollouts_.find(&pool);
  if (it == rollouts_.end()) return;
  pool.config = std::move(it->second.config);
  if (it->second.sockets) pool.sockets = std::move(*it->second.sockets);
  rollouts_.erase(it);
  ++pool.generation;
  pool.state = PoolState::kRunning;
  pool.state_reason.clear();
}

void RollingReload::roll_back(WorkerPool& pool) {
  auto it = rollouts_.find(&pool);
  if (it == rollouts_.end()) return;
  pool.desired = it->second.desired_before;
  pool.state = it->second.state_before;
  rollouts_.erase(it);
}

void RollingReload::wait(std::vector<const WorkerPool*> pools, std::vector<std::string> names,
                         Done done) {
  waiters_.push_back({std::move(pools), std::move(names), "", std::move(done)});
}

void RollingReload::ended(const WorkerPool& pool, const std::string& rollback_reason) {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    bool mine = std::erase(it->pending, &pool) > 0;
    if (mine && !rollback_reason.empty() && it->rolled_back.empty()) {
      it->rolled_back = "pool " + pool.config.name + ": reload rolled back: " + rollback_reason;
    }
    if (!it->pending.empty()) {
      ++it;
      continue;
    }
    Waiter w = std::move(*it);
    it = waiters_.erase(it);
    if (w.rolled_back.empty()) {
      w.done(Status(), w.names);
    } else {
      w.done(Status::error(StatusCode::kAborted, w.rolled_back), w.names);
    }
  }
}

void RollingReload::fail_waiters(const Status& outcome) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w.done(outcome, w.names);
}

}  // namespace greenfork::arbiter
