#include "greenfork/arbiter/orphan_guard.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "greenfork/arbiter/process_title.hpp"

namespace greenfork::arbiter {
namespace {

constexpr size_t kMaxGroups = 4096;

// Runs in the forked guard: async-signal-safe calls only (the parent may
// have threads), no allocation (the table was allocated before fork).
[[noreturn]] void guard_main(int fd, int* groups) {
  size_t n = 0;
  int value = 0;
  for (;;) {
    ssize_t got = ::read(fd, &value, sizeof value);
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(sizeof value)) break;  // EOF: arbiterd is gone
    if (value > 0) {
      if (n < kMaxGroups) groups[n++] = value;
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (groups[i] == -value) {
          groups[i] = groups[--n];
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) ::kill(-groups[i], SIGKILL);
  ::_exit(0);
}

}  // namespace

Status OrphanGuard::start() {
  if (fd_) return {};
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::from_errno("orphan guard: pipe");
  std::vector<int> table(kMaxGroups, 0);
  int* groups = table.data();
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Out of the terminal's process group (Ctrl-C is for arbiterd), every
    // signal but KILL ignored: only EOF ends the guard.
    ::setpgid(0, 0);
    for (int s = 1; s < NSIG; ++s) {
      struct sigaction sa {};
      sa.sa_handler = SIG_IGN;
      ::sigaction(s, &sa, nullptr);
    }
    ::close_range(3, static_cast<unsigned>(p[0]) - 1, 0);
    ::close_range(static_cast<unsigned>(p[0]) + 1, ~0U, 0);
    ProcessTitle::set("arbiterd: guard");
    guard_main(p[0], groups);
  }
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  UniqueFd read_end(p[0]);  // the guard's; ours closes now
  read_end.reset();
  UniqueFd write_end(p[1]);
  if (pid < 0) return Status::from_errno("orphan guard: fork", err);
  fd_ = std::move(write_end);
  pid_ = pid;
  return {};
}

void OrphanGuard::send(int value) {
  if (!fd_) return;
  ssize_t n;
  do {
    n = ::write(fd_.get(), &value, sizeof value);
  } while (n < 0 && errno == EINTR);
}

}  // namespace greenfork::arbiter
