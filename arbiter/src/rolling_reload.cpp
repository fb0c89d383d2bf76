#include "greenfork/arbiter/rolling_reload.hpp"

#include <algorithm>

namespace greenfork::arbiter {

const PoolConfig* RollingReload::target(const WorkerPool& pool) const {
  auto it = rollouts_.find(&pool);
  return it == rollouts_.end() ? nullptr : &it->second.config;
}

void RollingReload::begin(WorkerPool& pool, std::optional<PoolConfig> next) {
  Rollout r;
  r.desired_before = pool.desired;
  r.state_before = pool.state == PoolState::kFailed ? PoolState::kFailed : PoolState::kRunning;
  if (next) pool.desired = next->workers;
  r.config = next ? std::move(*next) : pool.config;
  pool.state = PoolState::kReloading;
  rollouts_[&pool] = std::move(r);
}

void RollingReload::finish(WorkerPool& pool) {
  auto it = rollouts_.find(&pool);
  if (it == rollouts_.end()) return;
  pool.config = std::move(it->second.config);
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
