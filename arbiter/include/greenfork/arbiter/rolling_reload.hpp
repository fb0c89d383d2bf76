// The state of rolling reloads (HUP, the Reload RPC): per pool, the
// configuration new workers get and what a rollback restores; and the
// callers waiting for their reloads to end. No I/O: the supervisor spawns
// and stops workers (plan_reload) and tells systemd.
//
//   RollingReload reloads;
//   reloads.begin(pool, next_config);           // pool.state = kReloading
//   const PoolConfig* cfg = reloads.target(pool);  // for new workers
//   reloads.finish(pool);                       // or reloads.roll_back(pool)
//   reloads.ended(pool, "");                    // answers the waiters that are done
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/worker_pool.hpp"

namespace greenfork::arbiter {

class RollingReload {
 public:
  using Done = std::function<void(Status, std::vector<std::string>)>;

  bool reloading(const WorkerPool& pool) const { return rollouts_.count(&pool) != 0; }
  bool any() const { return !rollouts_.empty(); }
  // The generation a reload of `pool` rolls to.
  static unsigned new_generation(const WorkerPool& pool) { return pool.generation + 1; }
  // A worker of the generation `pool` is rolling to.
  bool is_new(const WorkerPool& pool, const Worker& w) const {
    return reloading(pool) && w.generation == new_generation(pool);
  }
  // The configuration new workers of `pool` get; nullptr when not reloading.
  const PoolConfig* target(const WorkerPool& pool) const;

  // The worker count a reload of `pool` to `next` runs with: the pool's
  // current one (set by gctl scale, TTIN/TTOU or the autoscaler) unless the
  // file's own `workers` changed since it was last read; then within next's
  // autoscale bounds and max_workers. `why` says which, for the log.
  struct Count {
    unsigned desired = 0;
    std::string why;
  };
  static Count worker_count(const WorkerPool& pool, const PoolConfig& next);

  // Starts rolling `pool` to `next` (its running configuration when
  // nullopt): remembers the count and state a rollback restores, and sets
  // the pool reloading. The caller sets the new count (worker_count). The
  // pool must not be reloading.
  // `sockets`: new listeners for the new workers (changed binds).
  void begin(WorkerPool& pool, std::optional<PoolConfig> next,
             std::optional<PoolSockets> sockets = std::nullopt);
  // The sockets new workers of `pool` get: the new ones, else the pool's.
  const PoolSockets& target_sockets(const WorkerPool& pool) const;
  // Every reload's new sockets' specs (listeners in use).
  std::vector<std::string> target_specs() const;
  // Every worker is of the new generation and READY: the pool takes the new
  // configuration, sockets and generation and runs.
  void finish(WorkerPool& pool);
  // Gives the reload up: the pool gets its count and state back (a failed
  // pool stays failed).
  void roll_back(WorkerPool& pool);
  // Forgets the reload of a pool that failed meanwhile.
  void drop(WorkerPool& pool) { rollouts_.erase(&pool); }

  // A caller of `pools` waiting for all of their reloads to end.
  void wait(std::vector<const WorkerPool*> pools, std::vector<std::string> names, Done done);
  // The reload of `pool` ended (rollback_reason empty: it succeeded):
  // answers every waiter whose pools have all ended.
  void ended(const WorkerPool& pool, const std::string& rollback_reason);
  // Answers every waiter with `outcome` (arbiterd is stopping).
  void fail_waiters(const Status& outcome);

 private:
  struct Rollout {
    PoolConfig config;
    std::optional<PoolSockets> sockets;
    PoolState state_before = PoolState::kRunning;
    unsigned desired_before = 0;
  };
  struct Waiter {
    std::vector<const WorkerPool*> pending;
    std::vector<std::string> names;
    std::string rolled_back;  // the first rollback's reason
    Done done;
  };
  std::map<const WorkerPool*, Rollout> rollouts_;
  std::vector<Waiter> waiters_;
};

}  // namespace greenfork::arbiter
