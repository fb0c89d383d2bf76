// The operating-system calls the supervisor makes, behind one small
// interface so that its decisions are unit-testable without forking
// (tests use a fake; arbiterd uses make_posix_process_ops()).
//
//   auto ops = make_posix_process_ops();
//   SpawnSpec spec;
//   spec.exec_path = "/usr/bin/python3";
//   spec.argv = {"python3", "worker.py"};
//   spec.env = {"PATH=/usr/bin", "LISTEN_FDS=1"};
//   spec.listen_fds = {listener_fd};          // becomes fd 3 in the child
//   StatusOr<pid_t> pid = ops->spawn(spec);   // "exec worker.py: No such file ..."
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "greenfork/arbiter/mono_time.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

struct SpawnSpec {
  std::string exec_path;          // what execve() gets (already resolved on PATH)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // complete "K=V" environment, LISTEN_PID excluded
  // Listening sockets. Worker spawns (keep_fd_numbers false) see them as fds
  // 3, 4, ... in this order; an upgrade (keep_fd_numbers true) keeps their
  // numbers. Every other fd is closed in the child.
  std::vector<int> listen_fds;
  bool keep_fd_numbers = false;
  bool set_listen_pid = true;     // LISTEN_PID=<child pid>, written after fork
  bool own_process_group = true;  // setpgid(0, 0): stop signals reach grandchildren
  bool die_with_parent = true;    // PR_SET_PDEATHSIG(SIGKILL)
  std::string cwd;                // empty: inherit
  std::optional<uid_t> uid;       // set only when running as root
  std::optional<gid_t> gid;
  // Supplementary groups set with gid (--initgroups); empty: gid alone.
  std::vector<gid_t> groups;
};

struct Reaped {
  pid_t pid = 0;
  int status = 0;  // waitpid() status
};

// A listening socket arbiterd closed its own copy of (a failed pool, a
// stop), with what binding it again needs. The fd number stays taken (by
// /dev/null) so that whoever else holds the number never sees it reused.
struct ClosedListener {
  int fd = -1;
  sockaddr_storage address{};
  socklen_t address_length = 0;
  int v6only = -1;     // IPV6_V6ONLY of an AF_INET6 listener
  mode_t unix_mode = 0;  // permissions of a unix socket's file
};

class ProcessOps {
 public:
  virtual ~ProcessOps() = default;

  // fork + exec. An exec (or chdir/setuid) failure in the child is reported
  // here as an error naming the command, and the child is already reaped.
  virtual StatusOr<pid_t> spawn(const SpawnSpec& spec) = 0;
  // kill(-pgid, signo); falls back to kill(pgid, signo) if the group is gone.
  virtual Status kill_group(pid_t pgid, int signo) = 0;
  virtual Status kill_process(pid_t pid, int signo) = 0;
  // One waitpid(-1, WNOHANG); nullopt when no child has changed state.
  virtual std::optional<Reaped> reap() = 0;
  // A fresh random secret (hex) for ARBITER_WORKER_TOKEN.
  virtual std::string random_token() = 0;
  // The monotonic clock.
  virtual MonoTime now() = 0;
  // Resident set size from /proc/<pid>/statm.
  virtual std::optional<uint64_t> rss_bytes(pid_t pid) = 0;
  // Drops arbiterd's copy of listening socket `fd` (dup2 of /dev/null onto
  // it): once no worker holds one either, connecting is refused instead of
  // waiting in a backlog nobody accepts from.
  virtual StatusOr<ClosedListener> close_listener(int fd) = 0;
  // A new listening socket on the same address, on the same fd number.
  virtual Status reopen_listener(const ClosedListener& closed, int backlog) = 0;
};

std::unique_ptr<ProcessOps> make_posix_process_ops();

// Resolves a command name on PATH like execvp() would ("python3" ->
// "/usr/bin/python3"); names with a '/' are returned unchanged.
StatusOr<std::string> resolve_command(const std::string& name, const std::string& path_env);

}  // namespace greenfork::arbiter
