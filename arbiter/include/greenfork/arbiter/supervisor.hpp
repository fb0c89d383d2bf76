// arbiterd's master (Arbiter is this class): the loop that owns every pool
// and worker, turns signals into handle_* calls, reads the workers' notify
// socket, ticks every 50 ms (three C++20 coroutine loops, as gworker has),
// and implements the ControlTarget gctl talks to.
// Runs on the io_context's thread only.
//
// Where each job lives:
//   supervisor.cpp            loop, one handler per signal, notify socket, reaping, stop
//   pool_manager.cpp          the pool manager (state: PoolManager): pools, workers, slots;
//                             spawn, stop, liveness, reap, bring a pool to its target
//   supervisor_pools.cpp      what the pools' events mean for the master: a failed pool,
//                             a reload step, scale waiters, the first READY
//   supervisor_reload.cpp     rolling reload and rollback (state: RollingReload)
//   supervisor_scaling.cpp    autoscaling and max_worker_memory, each tick
//   supervisor_pool_changes.cpp  a reload's new and removed pools and changed binds
//   supervisor_upgrade.cpp    binary upgrade (state: BinaryUpgrade)
//   supervisor_listeners.cpp  closing/reopening arbiterd's listener copies
//   supervisor_control.cpp    ControlTarget (status, scale, reload, stop, beats ...)
// Decisions without I/O, unit-tested on plain data: rollout_plans (scale,
// reload step, respawn), autoscaler, memory_limit, exit_decision, heartbeat_monitor, backoff,
// shutdown, rolling_reload, binary_upgrade, worker_spawn_spec.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/arbiter/binary_upgrade.hpp"
#include "greenfork/arbiter/event_feed.hpp"
#include "greenfork/arbiter/metrics/metrics_endpoint.hpp"
#include "greenfork/arbiter/metrics/metrics_server.hpp"
#include "greenfork/arbiter/notify_message.hpp"
#include "greenfork/arbiter/notify_socket.hpp"
#include "greenfork/arbiter/pool_manager.hpp"
#include "greenfork/arbiter/rolling_reload.hpp"
#include "greenfork/arbiter/shutdown.hpp"
#include "greenfork/arbiter/worker_pool.hpp"

namespace greenfork::arbiter {

class Supervisor final : public ControlTarget {
 public:
  Supervisor(asio::io_context& io, ProcessOps& ops, ArbiterOptions options);
  ~Supervisor() override;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  ArbiterExit run();
  // run() without io_context::run(): tests drive the loop themselves.
  bool start();
  bool finished() const { return shutdown_.finished(); }
  // The loop's periodic work (reap, liveness, deadlines, bring pools to
  // their targets), run by a 50 ms timer; tests call it after moving their
  // fake clock instead of waiting for the timer.
  void tick() { on_tick(); }
  const ArbiterExit& exit_status() const { return exit_; }

  // ControlTarget (supervisor_control.cpp), loop thread only.
  ArbiterSnapshot status() const override;
  void scale(const ScaleCommand& command, std::function<void(Status, ScaleResult)> done) override;
  void reload(const std::string& pool, bool wait,
              std::function<void(Status, std::vector<std::string>)> done) override;
  Status stop(bool graceful) override;
  Status reopen_logs() override;
  Status signal(const std::string& pool, const std::string& signal_name, unsigned* count) override;
  void upgrade(bool wait, std::function<void(Status, pid_t)> done) override;
  uint64_t subscribe(std::function<void(const SupervisorEvent&)> listener) override;
  void unsubscribe(uint64_t id) override;
  Status worker_beat(const HeartbeatReport& report, bool first,
                      std::function<void(WorkerCommandKind)> commands) override;
  void worker_stream_closed(unsigned slot) override;

 private:
  struct ScaleWaiter {
    WorkerPool* pool;
    ScaleResult result;
    std::function<void(Status, ScaleResult)> done;
  };

  // supervisor.cpp
  // The loop's sources, each a coroutine loop spawned by start().
  void add_signals();
  asio::awaitable<void> signal_loop();
  asio::awaitable<void> notify_loop();
  asio::awaitable<void> tick_loop();
  void on_signal(int signo);
  // One handler per signal, Gunicorn's meanings (README "Signals").
  void handle_chld();
  void handle_hup();
  void handle_ttin();
  void handle_ttou();
  void handle_winch();
  void handle_term();
  void handle_quit();  // INT and QUIT
  void handle_usr1();
  void handle_usr2();
  void scale_by_signal(WorkerPool& pool, unsigned target);
  void read_notify();
  void on_tick();
  void reap_workers();
  void handle_exit(WorkerPool& pool, Worker& w, int status);
  void begin_stop(bool graceful, int exit_code);
  void check_stopped();
  void notify_systemd(const std::string& state);
  MonoTime now() const { return ops_.now(); }

  // supervisor_pools.cpp
  void manage_pools();
  void manage_pool(WorkerPool& pool);
  void check_liveness();
  void fail_pool(WorkerPool& pool, const std::string& reason);
  // supervisor_listeners.cpp: a pool that cannot serve refuses connections.
  void close_listeners(WorkerPool& pool, bool for_good);
  Status reopen_listeners(WorkerPool& pool);
  void check_scale_waiters();
  void check_initial_ready();

  // supervisor_scaling.cpp
  void check_scaling();
  void autoscale(WorkerPool& pool);

  // supervisor_pool_changes.cpp
  struct PoolChange {
    WorkerPool* pool;
    std::optional<PoolConfig> next;     // nullopt: its running configuration
    std::optional<PoolSockets> sockets;  // new listeners (changed binds)
  };
  struct PoolChanges {
    std::vector<PoolChange> reload;
    std::vector<std::pair<PoolConfig, PoolSockets>> added;
    std::vector<WorkerPool*> removed;
  };
  // What reloading `targets` onto `fresh` (nullopt: no config file) does;
  // every_pool: also add and remove pools. Opens the new listeners; on an
  // error none is left open and nothing has changed.
  StatusOr<PoolChanges> plan_pool_changes(const std::optional<Config>& fresh,
                                          const std::vector<WorkerPool*>& targets, bool every_pool);
  void apply_pool_changes(PoolChanges changes);
  void remove_pool(WorkerPool& pool);
  // Removed pools without workers go, and their listeners close.
  void collect_removed_pools();
  void close_unused_listeners();

  // supervisor_reload.cpp
  void reload_from_signal();
  // arbiterd's own error log from a re-read file (options_.apply_logging).
  void reapply_logging(const Config& fresh);
  Status start_reload(WorkerPool& pool, std::optional<PoolConfig> next,
                      std::optional<PoolSockets> sockets = std::nullopt);
  void finish_reload(WorkerPool& pool);
  void rollback(WorkerPool& pool, const std::string& reason);
  void reload_ended(WorkerPool& pool, const std::string& rollback_reason);

  // supervisor_upgrade.cpp
  Status start_upgrade();
  bool handle_upgrade_exit(pid_t pid, int status);
  void upgrade_ready();
  void check_upgrade_deadline();
  void fail_upgrade(const std::string& why);

  asio::io_context& io_;
  ProcessOps& ops_;
  ArbiterOptions options_;
  std::optional<NotifySocket> notify_;
  std::unique_ptr<asio::posix::stream_descriptor> notify_watch_;
  // Datagrams read per tick (50 ms): a flood of them cannot spend more of
  // arbiterd's time than this; beats of thousands of workers fit.
  static constexpr unsigned kNotifyPerTick = 256;
  unsigned notify_budget_ = kNotifyPerTick;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  // Wakes the notify loop when a tick renews its spent budget.
  asio::steady_timer notify_resume_;
  MonoTime started_at_{};
  bool initial_ready_sent_ = false;
  bool upgrade_parent_told_ = false;
  std::optional<MonoTime> settled_since_;  // all pools READY since

  Shutdown shutdown_;
  ArbiterExit exit_;

  EventFeed events_;
  PoolManager manager_;
  std::vector<ScaleWaiter> scale_waiters_;
  RollingReload reloads_;
  BinaryUpgrade upgrade_;

  // --metrics-bind (supervisor.cpp, start_metrics): the last events for
  // the status page, the routes, the HTTP server on this loop.
  bool start_metrics();
  bool bind_metrics();
  asio::awaitable<void> retry_metrics_bind();
  std::string metrics_bind_error_;
  RecentEvents recent_events_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace greenfork::arbiter
