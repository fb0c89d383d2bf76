// The pool manager (Gunicorn's spawn_worker, manage_workers, murder_workers
// and reap_workers, smaller): owns the pools, their workers and the worker
// slots, and does what a worker's life needs: start it, stop it, take its
// notify messages, kill it when it hangs, account for its exit. What those
// mean for the whole master (fail a pool, roll a reload back, stop) is the
// Supervisor's: the manager reports it and the Supervisor decides.
// The decisions come from pure functions (plan_scale, plan_respawn,
// check_heartbeat, decide_exit); the manager acts on them through
// ProcessOps, so a fake ProcessOps unit-tests it without forking.
//
//   PoolManager manager(ops, events, options);
//   manager.set_notify_address(notify.address());
//   Status s = manager.manage_workers(pool);  // bring a pool to `desired`
//   manager.murder_workers(config_of, on_timeout);
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/event_feed.hpp"
#include "greenfork/arbiter/memory_limit.hpp"
#include "greenfork/arbiter/notify_message.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/arbiter/slot_allocator.hpp"
#include "greenfork/arbiter/worker_pool.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

class PoolManager {
 public:
  using Pools = std::vector<std::unique_ptr<WorkerPool>>;

  // One pool per options.config.pools, with options.sockets in the same order.
  PoolManager(ProcessOps& ops, EventFeed& events, const ArbiterOptions& options);

  // NOTIFY_SOCKET for the workers spawned from now on.
  void set_notify_address(std::string address) { notify_address_ = std::move(address); }

  Pools& pools() { return pools_; }
  const Pools& pools() const { return pools_; }
  WorkerPool* find_pool(const std::string& name);
  std::pair<WorkerPool*, Worker*> find_worker(pid_t pid);

  // Starts one worker of `config` (a reload's target or the pool's own).
  // held_slot: a crashed worker's slot, kept for its replacement. A failure
  // is logged and returned; the slot is freed.
  // sockets: the reload's new listeners (null: the pool's).
  Status spawn_worker(WorkerPool& pool, const PoolConfig& config, unsigned generation,
                      std::optional<unsigned> held_slot = std::nullopt, const PoolSockets* sockets = nullptr);
  // A pool a reload added; a removed pool once it has no workers left.
  WorkerPool& add_pool(PoolConfig config, PoolSockets sockets);
  void erase_pool(const WorkerPool* pool);
  // TERM (then KILL after graceful_timeout) or KILL now.
  void stop_worker(WorkerPool& pool, Worker& w, bool graceful);
  // TERM every active worker of the pool.
  void stop_workers(WorkerPool& pool);
  void mark_ready(WorkerPool& pool, Worker& w);
  // A worker's sd_notify datagram: READY, WATCHDOG, STATUS, STOPPING, X_ counters.
  void apply_notify(WorkerPool& pool, Worker& w, const NotifyMessage& m);

  // Brings a pool to `desired` outside a reload: stops the surplus (oldest
  // first), respawns crashed slots whose back-off is over, starts the rest.
  // Stops at the first worker that cannot be started and returns why.
  Status manage_workers(WorkerPool& pool);
  // max_worker_memory: samples the RSS of the pool's READY workers and
  // marks those above the limit for replacement (manage_workers starts
  // their successors, then stops them). Counted in restarts, reason "memory".
  void check_memory(WorkerPool& pool);
  // Marks `w` to be replaced while it serves (a successor first), counts it
  // and publishes kWorkerRestarting with `reason`.
  void replace_worker(WorkerPool& pool, Worker& w, const std::string& reason, const std::string& why);

  // One step of a rolling reload towards `target` (generation `generation`).
  struct ReloadStep {
    bool done = false;  // every worker is of the new generation and READY
    Status spawn;       // a worker that could not be started
  };
  ReloadStep reload_step(WorkerPool& pool, const PoolConfig& target, unsigned generation,
                         const PoolSockets& sockets);

  // Liveness of every worker: KILL those that outlived their stop deadline,
  // mark READY those the policy says are, ABRT (KILL a second later) the
  // hung and the too slow, and tell on_timeout about each of those.
  using ConfigOf = std::function<const PoolConfig&(const WorkerPool&, const Worker&)>;
  using OnTimeout = std::function<void(WorkerPool&, Worker&, HeartbeatVerdict)>;
  void murder_workers(const ConfigOf& config_of, const OnTimeout& on_timeout);

  // A reaped worker of `pool`: removed, its process group killed, its exit
  // logged and published. A crash (kRespawn) holds its slot for the
  // replacement after the slot's back-off, unless arbiterd is stopping.
  struct Exit {
    ExitAction action = ExitAction::kExpected;
    std::string reason;  // the worker's last STATUS= and its wait status
  };
  Exit worker_exited(WorkerPool& pool, pid_t pid, int wait_status, bool reload_new, bool stopping);
  // Frees the slots held for crashed workers (a failed pool).
  void release_held_slots(WorkerPool& pool);

 private:
  void release_held_slot(WorkerPool& pool, unsigned slot);
  // TERM to the workers being replaced whose successors are READY.
  void retire_replaced(WorkerPool& pool);
  std::vector<MemoryView> memory_views(const WorkerPool& pool, bool sample);
  void kill_for_timeout(WorkerPool& pool, Worker& w, const std::string& why);
  MonoTime now() const { return ops_.now(); }

  ProcessOps& ops_;
  EventFeed& events_;
  std::string control_socket_;
  std::string notify_address_;
  Pools pools_;
  SlotAllocator slots_;
};

}  // namespace greenfork::arbiter
