// What main hands the supervisor (the configuration, the listeners it
// opened, the hooks it provides) and what it gets back when arbiterd stops.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

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
  // Reload (HUP, Reload RPC) of a file that adds a pool or changes binds:
  // opens the listeners of `binds` not open yet (open ones stay: no
  // connection is refused) and returns them as a pool's sockets; on error
  // none is left open. Null: pools and binds change only on a restart.
  std::function<StatusOr<PoolSockets>(const std::vector<std::string>& binds)> open_listeners;
  // Closes arbiterd's listeners whose specs are not in `in_use` (every
  // pool's, old and new): a removed pool's, a changed bind's old one.
  std::function<void(const std::vector<std::string>& in_use)> close_listeners_except;
  // USR1: reopen arbiterd's own log files.
  std::function<void()> reopen_logs;
  // HUP / Reload of the whole file: sets arbiterd's own error log up again
  // from the re-read configuration (loglevel, errorlog reopened, log_format,
  // syslog*, capture_output), as Gunicorn does on HUP. On error the old
  // setup stays and the Status says why. Null: they change on a restart.
  std::function<Status(const Config& fresh)> apply_logging;
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

}  // namespace greenfork::arbiter
