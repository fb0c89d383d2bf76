// arbiterd's supervisor: Gunicorn's Arbiter for any executable.
//
// Owns every pool and worker; runs on one thread (the asio::io_context
// passed in) and is the ControlTarget the gRPC control service posts to.
//
//   asio::io_context io;
//   auto ops = make_posix_process_ops();
//   ArbiterOptions opts;               // config + the listeners main opened
//   opts.config = config;
//   opts.sockets = {PoolSockets{{fd}, {"http"}, {"127.0.0.1:8000"}}};
//   Arbiter arbiter(io, *ops, std::move(opts));
//   ArbiterExit exit = arbiter.run();  // returns after TERM/INT/QUIT or a halt
//   listeners.close_all(/*unlink_unix_files=*/!exit.handed_over);
//   return exit.code;
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/status.hpp"

namespace asio {
class io_context;
}

namespace greenfork::arbiter {

// The listening sockets of one pool, as opened by main (ListenerSet).
struct PoolSockets {
  std::vector<int> fds;            // passed to workers as 3, 4, ...
  std::vector<std::string> names;  // LISTEN_FDNAMES entries
  std::vector<std::string> specs;  // the bind strings ("127.0.0.1:8000")
};

struct ArbiterOptions {
  Config config;
  std::vector<PoolSockets> sockets;  // one per config.pools, same order
  std::string control_socket;        // resolved path: ARBITER_SOCKET for workers
  // HUP: re-read the configuration (null: keep the running one). A failure
  // is logged and the old configuration keeps running.
  std::function<StatusOr<Config>()> reload_config;
  // USR1: reopen arbiterd's own log files.
  std::function<void()> reopen_logs;
  // After a failed binary upgrade: take the control socket and the pid
  // file back (the failed new master removed them).
  std::function<void()> reclaim_control_socket;
  // Binary upgrade: what to exec and with which argv (the original one).
  std::string self_exe;
  std::vector<std::string> self_argv;
  std::string self_cwd;  // the directory arbiterd was started in (before --chdir)
  // The NOTIFY_SOCKET systemd gave arbiterd (read and unset at startup).
  std::string systemd_notify_socket;
  // Set in a new master started by an upgrade: the old master's notify
  // socket, told READY=1 once this master's workers are ready.
  std::string upgrade_parent_notify;
};

// How run() ended.
struct ArbiterExit {
  int code = 0;
  // A new master took over (binary upgrade): do not unlink unix listener
  // files, the control socket or the pid file; they are the new master's.
  bool handed_over = false;
  // Why arbiterd halted (a single pool failed: the worker's own message);
  // empty after a requested stop. Logged as arbiterd's last line.
  std::string reason;
};

class Supervisor;

class Arbiter final : public ControlTarget {
 public:
  Arbiter(asio::io_context& io, ProcessOps& ops, ArbiterOptions options);
  ~Arbiter() override;
  Arbiter(const Arbiter&) = delete;
  Arbiter& operator=(const Arbiter&) = delete;

  // Installs the signal handlers, opens the workers' notify socket, spawns
  // the workers and runs the loop until arbiterd stops.
  ArbiterExit run();

  // ControlTarget (loop thread only).
  ArbiterSnapshot status() const override;
  void scale(const ScaleCommand& command,
             std::function<void(Outcome, ScaleResult)> done) override;
  void reload(const std::string& pool, bool wait,
              std::function<void(Outcome, std::vector<std::string>)> done) override;
  Outcome stop(bool graceful) override;
  Outcome reopen_logs() override;
  Outcome signal(const std::string& pool, const std::string& signal_name,
                 unsigned* workers_signalled) override;
  void upgrade(bool wait, std::function<void(Outcome, pid_t)> done) override;
  uint64_t subscribe(std::function<void(const SupervisorEvent&)> listener) override;
  void unsubscribe(uint64_t id) override;
  Outcome worker_beat(const HeartbeatReport& report, bool first,
                      std::function<void(WorkerCommandKind)> commands) override;
  void worker_stream_closed(unsigned slot) override;

 private:
  std::unique_ptr<Supervisor> impl_;
};

// LoopExecutor on an io_context (asio::post).
class AsioLoopExecutor final : public LoopExecutor {
 public:
  explicit AsioLoopExecutor(asio::io_context& io) : io_(io) {}
  void post(std::function<void()> fn) override;

 private:
  asio::io_context& io_;
};

}  // namespace greenfork::arbiter
