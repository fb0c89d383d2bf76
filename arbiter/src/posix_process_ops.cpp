// ProcessOps on Linux: fork + exec with only async-signal-safe calls in the
// child, kill, waitpid, getrandom, /proc/<pid>/statm.
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>

#include "greenfork/arbiter/orphan_guard.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter {
namespace detail {
StatusOr<ClosedListener> close_listener(int fd);  // posix_listener_ops.cpp
Status reopen_listener(const ClosedListener& closed, int backlog);
}  // namespace detail
namespace {

// What the child reports through the CLOEXEC pipe when it cannot exec.
struct ChildFailure {
  int stage;  // index into kStages
  int err;
};
constexpr const char* kStages[] = {"exec", "chdir", "setgid", "setuid", "set up fds", "setpgid"};
enum Stage { kExec, kChdir, kSetgid, kSetuid, kFds, kSetpgid };

[[noreturn]] void child_fail(int pipe_fd, Stage stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = ::write(pipe_fd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

// Writes the decimal pid into buf (no allocation: runs after fork).
void write_pid_digits(char* buf, pid_t pid) {
  char tmp[16];
  int n = 0;
  auto v = static_cast<unsigned long>(pid);
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 15);
  for (int i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
}

// Closes every fd >= from except `keep` entries (sorted ascending).
void close_fds_from(int from, const int* keep, size_t nkeep) {
  int lo = from;
  for (size_t i = 0; i < nkeep; ++i) {
    if (keep[i] < lo) continue;
    if (keep[i] > lo) ::close_range(static_cast<unsigned>(lo), static_cast<unsigned>(keep[i] - 1), 0);
    lo = keep[i] + 1;
  }
  ::close_range(static_cast<unsigned>(lo), ~0U, 0);
}

class PosixProcessOps final : public ProcessOps {
 public:
  StatusOr<pid_t> spawn(const SpawnSpec& spec) override;

  Status kill_group(pid_t pgid, int signo) override {
    if (::kill(-pgid, signo) == 0) return {};
    if (errno == ESRCH && ::kill(pgid, signo) == 0) return {};
    return Status::from_errno("kill " + std::to_string(pgid));
  }
  Status kill_process(pid_t pid, int signo) override {
    if (::kill(pid, signo) == 0) return {};
    return Status::from_errno("kill " + std::to_string(pid));
  }
  std::optional<Reaped> reap() override {
    int status = 0;
    pid_t pid;
    do {
      pid = ::waitpid(-1, &status, WNOHANG);
    } while (pid < 0 && errno == EINTR);
    if (pid <= 0) return std::nullopt;
    guard_.remove(pid);
    return Reaped{pid, status};
  }
  std::string random_token() override {
    unsigned char bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) {
      ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    return out;
  }
  MonoTime now() override { return std::chrono::steady_clock::now(); }
  std::optional<uint64_t> rss_bytes(pid_t pid) override {
    std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
    uint64_t size = 0, resident = 0;
    if (!(in >> size >> resident)) return std::nullopt;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  StatusOr<ClosedListener> close_listener(int fd) override { return detail::close_listener(fd); }
  Status reopen_listener(const ClosedListener& closed, int backlog) override {
    return detail::reopen_listener(closed, backlog);
  }

 private:
  OrphanGuard guard_;
};

StatusOr<pid_t> PosixProcessOps::spawn(const SpawnSpec& spec) {
  // Everything the child needs is prepared here: after fork it may not allocate.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = spec.env;
  constexpr size_t kPidRoom = 24;
  std::string listen_pid_prefix = std::string(contract::kListenPid) + "=";
  if (spec.set_listen_pid) env_storage.push_back(listen_pid_prefix + std::string(kPidRoom, '\0'));
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* listen_pid_digits =
      spec.set_listen_pid ? env_storage.back().data() + listen_pid_prefix.size() : nullptr;

  std::vector<int> keep = spec.listen_fds;
  std::sort(keep.begin(), keep.end());
  std::vector<int> keep_ext = keep;
  keep_ext.push_back(-1);  // the error pipe, filled in by the child
  std::vector<int> temps(spec.listen_fds.size(), -1);
  const int nfds = static_cast<int>(spec.listen_fds.size());
  const pid_t parent = ::getpid();
  const char* exec_path = spec.exec_path.c_str();
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();

  if (spec.own_process_group && !guard_.running()) {
    // Started lazily, on the first worker: arbiterd's fds are all open by then.
    if (Status s = guard_.start(); !s.ok()) return s;
  }
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Status::from_errno("pipe");

  // Block every signal across fork so no handler of ours runs in the child
  // (asio's would write into the parent's signal pipe).
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = ::fork();
  if (pid == 0) {
    int ep = err_pipe[1];
    // The child only makes async-signal-safe calls: a bare close, no destructor.
    ::close(err_pipe[0]);
    for (int s = 1; s < NSIG; ++s) {
      if (s == SIGKILL || s == SIGSTOP) continue;
      struct sigaction sa {};
      sa.sa_handler = SIG_DFL;
      ::sigaction(s, &sa, nullptr);
    }
    if (spec.own_process_group && ::setpgid(0, 0) != 0) child_fail(ep, kSetpgid);
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent already died
    }
    if (spec.keep_fd_numbers) {
      // Upgrade: the fds keep their numbers; only CLOEXEC is cleared.
      for (int fd : spec.listen_fds) {
        if (::fcntl(fd, F_SETFD, 0) != 0) child_fail(ep, kFds);
      }
      int moved = ::fcntl(ep, F_DUPFD_CLOEXEC, keep_ext.size() > 1 ? keep_ext[keep_ext.size() - 2] + 1 : 3);
      if (moved < 0) child_fail(ep, kFds);
      ep = moved;
      keep_ext.back() = ep;  // the highest: keep_ext stays sorted
      close_fds_from(3, keep_ext.data(), keep_ext.size());
    } else {
      // Copy every source above the target range first so dup2 never
      // clobbers a source that is also a target.
      int floor_fd = std::max(contract::kListenFdsStart + nfds, keep.empty() ? 0 : keep.back() + 1);
      int moved_ep = ::fcntl(ep, F_DUPFD_CLOEXEC, floor_fd);
      if (moved_ep < 0) child_fail(ep, kFds);
      ep = moved_ep;
      for (int i = 0; i < nfds; ++i) {
        temps[static_cast<size_t>(i)] = ::fcntl(spec.listen_fds[static_cast<size_t>(i)], F_DUPFD, ep + 1);
        if (temps[static_cast<size_t>(i)] < 0) child_fail(ep, kFds);
      }
      for (int i = 0; i < nfds; ++i) {
        // dup2 clears CLOEXEC on the target.
        if (::dup2(temps[static_cast<size_t>(i)], contract::kListenFdsStart + i) < 0) child_fail(ep, kFds);
      }
      int first_free = contract::kListenFdsStart + nfds;
      if (ep > first_free) ::close_range(static_cast<unsigned>(first_free), static_cast<unsigned>(ep - 1), 0);
      ::close_range(static_cast<unsigned>(ep + 1), ~0U, 0);  // the temporaries too
    }
    if (cwd != nullptr && ::chdir(cwd) != 0) child_fail(ep, kChdir);
    if (spec.gid) {
      const int set = spec.groups.empty() ? ::setgroups(1, &*spec.gid) : ::setgroups(spec.groups.size(), spec.groups.data());
      if (set != 0 || ::setgid(*spec.gid) != 0) child_fail(ep, kSetgid);
    }
    if (spec.uid && ::setuid(*spec.uid) != 0) child_fail(ep, kSetuid);
    if (listen_pid_digits != nullptr) write_pid_digits(listen_pid_digits, ::getpid());
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(exec_path, argv.data(), envp.data());
    child_fail(ep, kExec);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  UniqueFd(err_pipe[1]).reset();  // the child's end: EOF once it execs
  UniqueFd failure_pipe(err_pipe[0]);
  if (pid < 0) return Status::from_errno("fork", fork_errno);
  if (spec.own_process_group) {
    ::setpgid(pid, pid);  // also here: no race with kill(-pid)
    guard_.add(pid);
  }
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(failure_pipe.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  failure_pipe.reset();
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (spec.own_process_group) guard_.remove(pid);
    std::string what = kStages[failure.stage];
    if (failure.stage == kExec) what += " " + spec.exec_path;
    if (failure.stage == kChdir) what += " " + spec.cwd;
    return Status::from_errno(what, failure.err);
  }
  return pid;
}

}  // namespace

std::unique_ptr<ProcessOps> make_posix_process_ops() { return std::make_unique<PosixProcessOps>(); }

StatusOr<std::string> resolve_command(const std::string& name, const std::string& path_env) {
  if (name.empty()) return Status::error("empty command");
  if (name.find('/') != std::string::npos) return name;
  std::string path = path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return Status::error(name + ": command not found on PATH");
}

}  // namespace greenfork::arbiter
