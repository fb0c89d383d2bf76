// Binary upgrade (USR2, Upgrade RPC): exec a new master from disk that
// inherits the listening sockets; drain and exit once it reports READY.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/signals.hpp"

extern char** environ;

namespace greenfork::arbiter {
namespace {

constexpr double kUpgradeSlack = 10.0;  // beyond the slowest boot_timeout

bool has_name(std::string_view kv, const char* name) {
  size_t n = std::strlen(name);
  return kv.size() > n && kv.compare(0, n, name) == 0 && kv[n] == '=';
}

}  // namespace

void Supervisor::upgrade(bool wait, std::function<void(Outcome, pid_t)> done) {
  Outcome o = start_upgrade();
  if (!o.ok()) return done(o, 0);
  if (!wait) return done(Outcome::success(), upgrade_->pid);
  upgrade_->waiters.push_back(std::move(done));
}

Outcome Supervisor::start_upgrade() {
  if (shutdown_.stopping()) return Outcome::fail(ErrorCode::kUnavailable, "arbiterd is stopping");
  if (upgrade_) {
    return Outcome::fail(ErrorCode::kFailedPrecondition,
                         "an upgrade is already running (new master pid " + std::to_string(upgrade_->pid) + ")");
  }
  if (options_.self_exe.empty() || options_.self_argv.empty()) {
    return Outcome::fail(ErrorCode::kFailedPrecondition, "upgrade: arbiterd's own path is unknown");
  }
  // The new master binds nothing itself: it needs every listener, also
  // those of a failed pool, which it starts afresh.
  for (auto& p : pools_) {
    if (Status s = reopen_listeners(*p); !s.ok()) {
      return Outcome::fail(ErrorCode::kUnavailable, "upgrade: pool " + p->config.name + ": " + s.message());
    }
  }
  SpawnSpec spec;
  spec.exec_path = options_.self_exe;
  spec.argv = options_.self_argv;
  spec.cwd = options_.self_cwd;
  spec.keep_fd_numbers = true;
  spec.set_listen_pid = false;
  spec.own_process_group = false;
  spec.die_with_parent = false;  // the new master outlives us
  std::string fds;
  for (auto& p : pools_) {
    for (size_t i = 0; i < p->sockets.fds.size(); ++i) {
      if (std::find(spec.listen_fds.begin(), spec.listen_fds.end(), p->sockets.fds[i]) != spec.listen_fds.end()) {
        continue;
      }
      spec.listen_fds.push_back(p->sockets.fds[i]);
      std::string name = i < p->sockets.specs.size() ? p->sockets.specs[i] : "";
      fds += (fds.empty() ? "" : ";") + name + "=" + std::to_string(p->sockets.fds[i]);
    }
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (has_name(kv, contract::kListenFds) || has_name(kv, contract::kListenFdNames) ||
        has_name(kv, contract::kListenPid) || has_name(kv, contract::kNotifySocket) ||
        has_name(kv, contract::kUpgradeFds) || has_name(kv, contract::kUpgradeParent) ||
        has_name(kv, contract::kUpgradeNotify)) {
      continue;
    }
    spec.env.emplace_back(kv);
  }
  if (!options_.systemd_notify_socket.empty()) {
    spec.env.push_back(std::string(contract::kNotifySocket) + "=" + options_.systemd_notify_socket);
  }
  spec.env.push_back(std::string(contract::kUpgradeFds) + "=" + fds);
  spec.env.push_back(std::string(contract::kUpgradeParent) + "=" + std::to_string(::getpid()));
  spec.env.push_back(std::string(contract::kUpgradeNotify) + "=" + notify_->address());
  StatusOr<pid_t> pid = ops_.spawn(spec);
  if (!pid.ok()) {
    spdlog::error("upgrade: {}; this master keeps serving", pid.status().message());
    return Outcome::fail(ErrorCode::kInternal, "upgrade: " + pid.status().message());
  }
  double bound = 0;
  for (auto& p : pools_) bound = std::max(bound, p->config.boot_timeout_seconds);
  upgrade_.emplace();
  upgrade_->pid = *pid;
  upgrade_->deadline = now() + bound + kUpgradeSlack;
  spdlog::info("Upgrading: started new master {} (pid {}); waiting for its workers", spec.exec_path, *pid);
  emit(SupervisorEvent::Kind::kArbiterUpgrading, "", 0, *pid, "new master pid " + std::to_string(*pid));
  return Outcome::success();
}

void Supervisor::upgrade_ready() {
  pid_t pid = upgrade_->pid;
  spdlog::info("New master (pid {}) is ready: draining this master", pid);
  for (auto& done : upgrade_->waiters) done(Outcome::success(), pid);
  upgrade_.reset();
  notify_systemd("MAINPID=" + std::to_string(pid) + "\nREADY=1");
  exit_.handed_over = true;
  begin_stop(true, 0);
}

bool Supervisor::handle_upgrade_exit(pid_t pid, int status) {
  if (!upgrade_ || pid != upgrade_->pid) return false;
  fail_upgrade("new master (pid " + std::to_string(pid) + ") " + describe_wait_status(status) +
               " before it was ready");
  return true;
}

void Supervisor::check_upgrade_deadline() {
  if (!upgrade_ || now() < upgrade_->deadline) return;
  pid_t pid = upgrade_->pid;
  // SIGKILL: its workers die with it (PR_SET_PDEATHSIG); the exit is reaped
  // as an ordinary unknown child.
  (void)ops_.kill_process(pid, SIGKILL);
  fail_upgrade("new master (pid " + std::to_string(pid) + ") was not ready in time; killed it");
}

void Supervisor::fail_upgrade(const std::string& why) {
  spdlog::error("Upgrade failed: {}; this master keeps serving", why);
  auto waiters = std::move(upgrade_->waiters);
  upgrade_.reset();
  for (auto& p : pools_) {
    if (p->state == PoolState::kFailed) close_listeners(*p, /*for_good=*/false);
  }
  if (options_.reclaim_control_socket) options_.reclaim_control_socket();
  for (auto& done : waiters) done(Outcome::fail(ErrorCode::kAborted, "upgrade failed: " + why), 0);
}

}  // namespace greenfork::arbiter
