// A ProcessOps for unit tests: no fork, a fake clock, exits injected by
// the test (or caused by the stop signals it is sent).
#pragma once

#include <csignal>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "greenfork/arbiter/process_ops.hpp"

namespace greenfork::arbiter {

class FakeOps final : public ProcessOps {
 public:
  StatusOr<pid_t> spawn(const SpawnSpec& spec) override {
    if (fail_exec_for == spec.argv) return Status::error("exec " + spec.exec_path + ": No such file or directory");
    pid_t pid = next_pid++;
    spawned.push_back({pid, spec});
    alive[pid] = true;
    return pid;
  }
  Status kill_group(pid_t pgid, int signo) override {
    signals.push_back({pgid, signo});
    if (alive[pgid] && (signo == SIGTERM || signo == SIGKILL || signo == SIGQUIT) && exit_on_signal) {
      exit(pgid, signo == SIGTERM ? 0 : signo);
    }
    return {};
  }
  Status kill_process(pid_t pid, int signo) override { return kill_group(pid, signo); }
  std::optional<Reaped> reap() override {
    if (exits.empty()) return std::nullopt;
    Reaped r = exits.front();
    exits.pop_front();
    return r;
  }
  std::string random_token() override { return "token" + std::to_string(next_token++); }
  MonoTime now() override { return clock; }
  std::optional<uint64_t> rss_bytes(pid_t pid) override {
    auto it = rss.find(pid);
    return it == rss.end() ? 4096 : it->second;
  }
  StatusOr<ClosedListener> close_listener(int fd) override {
    open_listeners.erase(fd);
    ClosedListener c;
    c.fd = fd;
    return c;
  }
  Status reopen_listener(const ClosedListener& closed, int) override {
    open_listeners.insert(closed.fd);
    return {};
  }

  // status: a waitpid() status
  void exit(pid_t pid, int status) {
    if (!alive[pid]) return;
    alive[pid] = false;
    exits.push_back({pid, status});
  }
  std::vector<std::string> env_of(pid_t pid) const {
    for (auto& [p, spec] : spawned) {
      if (p == pid) return spec.env;
    }
    return {};
  }

  MonoTime clock{Seconds(1000)};
  pid_t next_pid = 100;
  int next_token = 1;
  bool exit_on_signal = true;
  std::vector<std::string> fail_exec_for;
  std::vector<std::pair<pid_t, SpawnSpec>> spawned;
  std::vector<std::pair<pid_t, int>> signals;
  std::map<pid_t, bool> alive;
  std::deque<Reaped> exits;
  std::set<int> open_listeners;  // the fds the test's pools listen on
  std::map<pid_t, uint64_t> rss;  // rss_bytes() of a pid (4096 when absent)
};

}  // namespace greenfork::arbiter
