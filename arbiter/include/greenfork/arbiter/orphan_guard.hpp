// Workers never outlive arbiterd, not even its grandchildren after
// `kill -9 arbiterd`. PR_SET_PDEATHSIG kills each worker, but what a worker
// started in its process group would be orphaned. The guard is a tiny
// forked process that holds the read end of a pipe: arbiterd writes the
// process group of every worker it starts (and a negative one when it is
// reaped); when arbiterd dies, however it dies, the pipe reaches EOF and the
// guard SIGKILLs every group still listed, then exits.
//
//   OrphanGuard guard;
//   guard.start();          // once; the guard ignores terminal signals
//   guard.add(pgid);  ...  guard.remove(pgid);
#pragma once

#include <sys/types.h>

#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter {

class OrphanGuard {
 public:
  OrphanGuard() = default;
  OrphanGuard(const OrphanGuard&) = delete;
  OrphanGuard& operator=(const OrphanGuard&) = delete;

  Status start();
  bool running() const { return fd_.valid(); }
  pid_t pid() const { return pid_; }
  void add(pid_t pgid) { send(pgid); }
  void remove(pid_t pgid) { send(-pgid); }

 private:
  void send(int value);
  UniqueFd fd_;  // the pipe's write end: EOF tells the guard arbiterd is gone
  pid_t pid_ = 0;
};

}  // namespace greenfork::arbiter
