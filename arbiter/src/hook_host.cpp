// The hook host process and its socket (hook_host.hpp).
#include "greenfork/arbiter/hook_host.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>

#include <spdlog/spdlog.h>

#ifndef GF_PYTHON
#define GF_PYTHON "/usr/bin/python3"
#endif

namespace greenfork::arbiter {
namespace {

constexpr unsigned kMaxFailedStarts = 5;
constexpr std::size_t kMaxQueued = 10000;  // a host that hangs on every call cannot grow arbiterd without end
constexpr auto kRestartDelay = std::chrono::seconds(1);
constexpr std::size_t kMaxLine = 4 << 20;  // a log line (a traceback) is far smaller

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      out += text[i] == 'n' ? '\n' : text[i];
    } else {
      out += text[i];
    }
  }
  return out;
}

void log_at(const std::string& level, const std::string& text) {
  if (level == "debug") spdlog::debug("{}", text);
  else if (level == "warning") spdlog::warn("{}", text);
  else if (level == "error") spdlog::error("{}", text);
  else if (level == "critical") spdlog::critical("{}", text);
  else spdlog::info("{}", text);
}

double remaining_ms(std::chrono::steady_clock::time_point until) {
  return std::chrono::duration<double, std::milli>(until - std::chrono::steady_clock::now()).count();
}

}  // namespace

std::string hook_host_script_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "gf_hook_host.py";
  return (self.parent_path() / "gf_hook_host.py").string();
}

HookHost::HookHost(asio::io_context& io, HookHostOptions options)
    : io_(io), options_(std::move(options)), deadline_(io), restart_(io) {
  if (options_.script.empty()) options_.script = hook_host_script_path();
}

HookHost::~HookHost() {
  end_async();
  kill_host(/*reap=*/true);
}

StatusOr<std::unique_ptr<HookHost>> HookHost::start(asio::io_context& io, HookHostOptions options) {
  std::unique_ptr<HookHost> host(new HookHost(io, std::move(options)));
  if (::access(host->options_.script.c_str(), R_OK) != 0) {
    return Status::error("the hook host " + host->options_.script + " is missing: it is installed next to arbiterd");
  }
  if (Status s = host->spawn(); !s.ok()) return s;
  if (!host->wait_ready_now()) {
    return Status::error("the hook host could not load " + host->options_.location + " (its traceback is above)");
  }
  return host;
}

Status HookHost::spawn() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return Status::from_errno("socketpair");
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls until exec (gRPC's threads may hold locks).
  const std::string fd_text = "3";
  const char* argv[] = {GF_PYTHON, options_.script.c_str(), fd_text.c_str(), options_.location.c_str(), nullptr};
  const char* dir = options_.chdir.empty() ? nullptr : options_.chdir.c_str();
  const pid_t pid = ::fork();
  if (pid < 0) {
    Status s = Status::from_errno("fork (hook host)");
    ::close(pair[0]);
    ::close(pair[1]);
    return s;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(1);  // arbiterd is already gone
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (pair[1] == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else if (::dup2(pair[1], 3) < 0) {
      ::_exit(127);
    }
    if (dir != nullptr && ::chdir(dir) != 0) ::_exit(127);
    ::execv(GF_PYTHON, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(pair[1]);
  ::fcntl(pair[0], F_SETFL, ::fcntl(pair[0], F_GETFL) | O_NONBLOCK);
  fd_ = pair[0];
  pid_ = pid;
  ready_ = false;
  input_.clear();
  spdlog::debug("hook host started (pid {}) for {}", pid_, options_.location);
  return {};
}

void HookHost::kill_host(bool reap) {
  if (watch_) {
    watch_.reset();  // it owns fd_ and closes it
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  // On the loop the supervisor reaps every child (waitpid(-1)); outside it
  // the host is ours to reap.
  if (reap) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

bool HookHost::wait_ready_now() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.bound);
  while (!ready_) {
    pollfd p{fd_, POLLIN, 0};
    const double ms = remaining_ms(until);
    if (ms <= 0) {
      spdlog::error("the hook host did not load {} within {:.0f}s", options_.location, options_.bound.count());
      kill_host(true);
      return false;
    }
    int n = ::poll(&p, 1, static_cast<int>(ms) + 1);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0 && !drain()) {
      kill_host(true);
      return false;
    }
  }
  return true;
}

bool HookHost::drain() {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      input_.append(buf, static_cast<std::size_t>(n));
      if (input_.size() > kMaxLine && input_.find('\n') == std::string::npos) {
        spdlog::error("the hook host sent a line of more than {} bytes", kMaxLine);
        return false;  // treated as a broken host
      }
      std::size_t nl;
      while ((nl = input_.find('\n')) != std::string::npos) {
        std::string line = input_.substr(0, nl);
        input_.erase(0, nl + 1);
        on_line(line);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

void HookHost::on_line(const std::string& line) {
  const std::size_t sp = line.find(' ');
  const std::string verb = line.substr(0, sp);
  const std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
  if (verb == "ready") {
    ready_ = true;
    failed_starts_ = 0;
  } else if (verb == "log") {
    const std::size_t sp2 = rest.find(' ');
    log_at(rest.substr(0, sp2), sp2 == std::string::npos ? "" : unescape(rest.substr(sp2 + 1)));
  } else if (verb == "done") {
    const std::size_t sp2 = rest.find(' ');
    const uint64_t id = std::strtoull(rest.substr(0, sp2).c_str(), nullptr, 10);
    const bool raised = sp2 != std::string::npos && rest.substr(sp2 + 1) == "raised";
    answered_ = {id, raised};
    if (in_flight_ && in_flight_->id == id) {
      in_flight_.reset();
      deadline_.cancel();
      if (async_) asio::post(io_, [this] { send_next(); });
    }
  } else if (verb == "signal") {
    const int signo = rest == "HUP" ? SIGHUP : rest == "USR2" ? SIGUSR2 : rest == "TERM" ? SIGTERM : rest == "QUIT" ? SIGQUIT : 0;
    if (signo == 0) {
      spdlog::warn("hook host asked for an unknown signal '{}'", rest);
    } else if (!async_) {
      spdlog::warn("server.{} from a hook is ignored while arbiterd is starting or exiting",
                   signo == SIGHUP ? "reload()" : signo == SIGUSR2 ? "reexec()" : "halt()");
    } else {
      ::kill(::getpid(), signo);  // the loop's signal handler does what the signal means
    }
  } else {
    spdlog::warn("hook host: unexpected line '{}'", line);
  }
}

HookHost::Outcome HookHost::call_now(const std::string& hook, const std::string& fields) {
  const uint64_t id = next_id_++;
  return run_now(id, hook, "{\"id\":" + std::to_string(id) + ",\"hook\":\"" + hook + "\"" + fields + "}\n",
                 /*sent=*/false);
}

void HookHost::finish_queue_now() {
  if (in_flight_) {
    Call c = std::move(*in_flight_);
    in_flight_.reset();
    (void)run_now(c.id, c.hook, c.line, /*sent=*/true);
  }
  while (!queue_.empty()) {
    Call c = std::move(queue_.front());
    queue_.pop_front();
    (void)run_now(c.id, c.hook, c.line, /*sent=*/false);
  }
}

HookHost::Outcome HookHost::run_now(uint64_t id, const std::string& hook, const std::string& line, bool sent) {
  if (sent && pid_ <= 0) return Outcome::kAbandoned;  // its host is gone
  if (pid_ <= 0 && !spawn().ok()) return Outcome::kAbandoned;
  if (!ready_ && !wait_ready_now()) return Outcome::kAbandoned;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.bound);
  if (!sent || !answered_ || answered_->first != id) answered_.reset();
  std::size_t written = sent ? line.size() : 0;
  while (!answered_ || answered_->first != id) {
    const double ms = remaining_ms(until);
    if (ms <= 0) {
      spdlog::error("{} hook did not return within {:.0f}s: abandoned (the hook host is killed)", hook,
                    options_.bound.count());
      kill_host(true);
      return Outcome::kAbandoned;
    }
    pollfd p{fd_, static_cast<short>(POLLIN | (written < line.size() ? POLLOUT : 0)), 0};
    int n = ::poll(&p, 1, static_cast<int>(ms) + 1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if ((p.revents & POLLOUT) != 0 && written < line.size()) {
      ssize_t w = ::send(fd_, line.data() + written, line.size() - written, MSG_NOSIGNAL);
      if (w > 0) written += static_cast<std::size_t>(w);
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !drain()) {
      spdlog::error("the hook host exited during the {} hook", hook);
      kill_host(true);
      return Outcome::kAbandoned;
    }
  }
  return answered_ && answered_->first == id && answered_->second ? Outcome::kRaised : Outcome::kReturned;
}

void HookHost::begin_async() {
  async_ = true;
  if (pid_ <= 0) {
    // Killed while starting (on_starting hung): a new host for the loop.
    if (Status s = spawn(); !s.ok()) {
      spdlog::error("hook host: {}", s.message());
      restart_later();
      return;
    }
  }
  if (fd_ >= 0 && !watch_) watch();
  send_next();
}

void HookHost::end_async() {
  async_ = false;
  deadline_.cancel();
  restart_.cancel();
  if (watch_) {
    // Hand the fd back from asio: call_now() reads it directly.
    fd_ = watch_->release();
    watch_.reset();
  }
}

void HookHost::post(const std::string& hook, const std::string& fields) {
  if (queue_.size() >= kMaxQueued) {
    spdlog::error("{} hook dropped: {} hook calls are already waiting for the hook host", hook, queue_.size());
    return;
  }
  const uint64_t id = next_id_++;
  queue_.push_back({id, hook, "{\"id\":" + std::to_string(id) + ",\"hook\":\"" + hook + "\"" + fields + "}\n"});
  if (async_) send_next();
}

void HookHost::send_next() {
  if (!async_ || in_flight_ || queue_.empty() || fd_ < 0) return;
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  // One JSON line is far below the socket buffer: a short write means the
  // host stopped reading, which the deadline below catches.
  const std::string& line = in_flight_->line;
  ssize_t w = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w < 0 && errno != EAGAIN) {
    on_host_gone("cannot write to it");
    return;
  }
  deadline_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.bound));
  const uint64_t id = in_flight_->id;
  deadline_.async_wait([this, id](const asio::error_code& ec) {
    if (!ec && in_flight_ && in_flight_->id == id) on_deadline();
  });
}

void HookHost::watch() {
  if (!watch_) watch_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd_);
  watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& ec) {
    if (ec || !async_ || !watch_) return;
    if (!drain()) {
      on_host_gone("exited");
      return;
    }
    watch();
  });
}

void HookHost::on_deadline() {
  spdlog::error("{} hook did not return within {:.0f}s: abandoned; the hook host (pid {}) is killed and started again",
                in_flight_->hook, options_.bound.count(), pid_);
  in_flight_.reset();
  kill_host(/*reap=*/false);
  if (Status s = spawn(); !s.ok()) {
    spdlog::error("hook host: {}", s.message());
    restart_later();
    return;
  }
  watch();
  send_next();
}

void HookHost::on_host_gone(const std::string& why) {
  if (in_flight_) spdlog::error("the hook host {} during the {} hook", why, in_flight_->hook);
  else spdlog::error("the hook host (pid {}) {}", pid_, why);
  in_flight_.reset();
  deadline_.cancel();
  if (!ready_) ++failed_starts_;
  kill_host(/*reap=*/false);
  restart_later();
}

void HookHost::restart_later() {
  if (failed_starts_ >= kMaxFailedStarts) {
    spdlog::error("the hook host failed to start {} times in a row: master hooks are off until arbiterd restarts",
                  failed_starts_);
    queue_.clear();
    return;
  }
  restart_.expires_after(kRestartDelay);
  restart_.async_wait([this](const asio::error_code& ec) {
    if (ec || !async_) return;
    if (Status s = spawn(); !s.ok()) {
      spdlog::error("hook host: {}", s.message());
      ++failed_starts_;
      restart_later();
      return;
    }
    spdlog::info("hook host started again (pid {})", pid_);
    watch();
    send_next();
  });
}

}  // namespace greenfork::arbiter
