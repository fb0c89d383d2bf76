// A binary upgrade (USR2, the Upgrade RPC): the new master arbiterd runs
// from disk with every listening socket, the callers waiting for it, and
// how long it may take to say READY. No I/O: the supervisor spawns the new
// master with new_master_spec() and drains once it is READY.
//
//   BinaryUpgrade upgrade;
//   SpawnSpec spec = BinaryUpgrade::new_master_spec(options, sockets, notify_path, env);
//   upgrade.started(*ops.spawn(spec), ops.now() + bound);
//   if (upgrade.is_new_master(datagram.pid) && message.ready) { ... drain ... }
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/mono_time.hpp"
#include "greenfork/arbiter/process_ops.hpp"

namespace greenfork::arbiter {

class BinaryUpgrade {
 public:
  using Done = std::function<void(Status, pid_t)>;
  static constexpr Seconds kSlack{10.0};  // beyond the slowest boot_timeout

  bool running() const { return pid_ != 0; }
  pid_t pid() const { return pid_; }
  bool is_new_master(pid_t pid) const { return running() && pid == pid_; }
  bool overdue(MonoTime now) const { return running() && now >= deadline_; }

  void started(pid_t pid, MonoTime deadline) {
    pid_ = pid;
    deadline_ = deadline;
  }
  // A caller waiting until the new master is READY (or the upgrade failed).
  void wait(Done done) { waiters_.push_back(std::move(done)); }
  // The upgrade is over (READY or failed): its waiters, to be answered.
  std::vector<Done> end();
  // Answers the waiters now; the upgrade itself goes on.
  void fail_waiters(const Status& outcome);

  // The new master: arbiterd's own executable and argv, every listening fd
  // under its own number (GREENFORK_UPGRADE_FDS names them), the old
  // master's pid and notify socket, and `environment` without the worker
  // contract's and a previous upgrade's variables.
  static SpawnSpec new_master_spec(const ArbiterOptions& options,
                                   const std::vector<PoolSockets>& sockets,
                                   const std::string& notify_address,
                                   const std::vector<std::string>& environment);

 private:
  pid_t pid_ = 0;
  MonoTime deadline_{};
  std::vector<Done> waiters_;
};

}  // namespace greenfork::arbiter
