// Binary upgrade (USR2, Upgrade RPC): exec a new master from disk that
// inherits the listening sockets; drain and exit once it reports READY.
// The state lives in BinaryUpgrade; this file does the effects.
#include <csignal>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/signals.hpp"

extern char** environ;

namespace greenfork::arbiter {

void Supervisor::upgrade(bool wait, std::function<void(Status, pid_t)> done) {
  Status o = start_upgrade();
  if (!o.ok()) return done(o, 0);
  if (!wait) return done(Status(), upgrade_.pid());
  upgrade_.wait(std::move(done));
}

Status Supervisor::start_upgrade() {
  if (shutdown_.stopping()) return Status::error(StatusCode::kUnavailable, "arbiterd is stopping");
  if (upgrade_.running()) {
    return Status::error(StatusCode::kFailedPrecondition,
                         "an upgrade is already running (new master pid " + std::to_string(upgrade_.pid()) + ")");
  }
  if (options_.self_exe.empty() || options_.self_argv.empty()) {
    return Status::error(StatusCode::kFailedPrecondition, "upgrade: arbiterd's own path is unknown");
  }
  // The new master binds nothing itself: it needs every listener, also
  // those of a failed pool, which it starts afresh.
  std::vector<PoolSockets> sockets;
  for (auto& p : manager_.pools()) {
    if (Status s = reopen_listeners(*p); !s.ok()) {
      return Status::error(StatusCode::kUnavailable, "upgrade: pool " + p->config.name + ": " + s.message());
    }
    sockets.push_back(p->sockets);
  }
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  SpawnSpec spec = BinaryUpgrade::new_master_spec(options_, sockets, notify_->address(), env);
  StatusOr<pid_t> pid = ops_.spawn(spec);
  if (!pid.ok()) {
    spdlog::error("upgrade: {}; this master keeps serving", pid.status().message());
    return Status::error(StatusCode::kInternal, "upgrade: " + pid.status().message());
  }
  Seconds bound{0};
  for (auto& p : manager_.pools()) bound = std::max(bound, Seconds(p->config.boot_timeout_seconds));
  upgrade_.started(*pid, now() + bound + BinaryUpgrade::kSlack);
  spdlog::info("Upgrading: started new master {} (pid {}); waiting for its workers", spec.exec_path, *pid);
  events_.publish(SupervisorEvent::Kind::kArbiterUpgrading, "", 0, *pid, "new master pid " + std::to_string(*pid));
  return Status();
}

void Supervisor::upgrade_ready() {
  pid_t pid = upgrade_.pid();
  spdlog::info("New master (pid {}) is ready: draining this master", pid);
  for (auto& done : upgrade_.end()) done(Status(), pid);
  notify_systemd("MAINPID=" + std::to_string(pid) + "\nREADY=1");
  exit_.handed_over = true;
  begin_stop(true, 0);
}

bool Supervisor::handle_upgrade_exit(pid_t pid, int status) {
  if (!upgrade_.is_new_master(pid)) return false;
  fail_upgrade("new master (pid " + std::to_string(pid) + ") " + describe_wait_status(status) +
               " before it was ready");
  return true;
}

void Supervisor::check_upgrade_deadline() {
  if (!upgrade_.overdue(now())) return;
  pid_t pid = upgrade_.pid();
  // SIGKILL: its workers die with it (PR_SET_PDEATHSIG); the exit is reaped
  // as an ordinary unknown child.
  (void)ops_.kill_process(pid, SIGKILL);
  fail_upgrade("new master (pid " + std::to_string(pid) + ") was not ready in time; killed it");
}

void Supervisor::fail_upgrade(const std::string& why) {
  spdlog::error("Upgrade failed: {}; this master keeps serving", why);
  auto waiters = upgrade_.end();
  for (auto& p : manager_.pools()) {
    if (p->state == PoolState::kFailed) close_listeners(*p, /*for_good=*/false);
  }
  if (options_.reclaim_control_socket) options_.reclaim_control_socket();
  for (auto& done : waiters) done(Status::error(StatusCode::kAborted, "upgrade failed: " + why), 0);
}

}  // namespace greenfork::arbiter
