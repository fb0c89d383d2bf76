#include "control_acceptor.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "greenfork/listen_address.hpp"

namespace greenfork::arbiter {
namespace {

// How long accept waits after EMFILE/ENFILE before it tries again: the
// connection stays queued in the kernel meanwhile.
constexpr int kRetryAfterMs = 100;

std::string peer_text(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    port = ntohs(in.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_UNIX) return "a local process";
  if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
    port = ntohs(in6.sin6_port);
  }
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

// Descriptors this process may still open; 0 when it cannot tell (which
// itself means none are left: listing /proc/self/fd needs one).
std::size_t fds_left() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::size_t open = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++open;
  }
  ::closedir(dir);
  return open >= limit.rlim_cur ? 0 : static_cast<std::size_t>(limit.rlim_cur) - open;
}

}  // namespace

StatusOr<std::unique_ptr<ControlAcceptor>> ControlAcceptor::listen_tcp(const std::string& bind,
                                                                    Limits limits) {
  // The same parser and binder as arbiterd's -b listeners.
  const std::string context = "control bind " + bind;
  auto address = parse_listen_address(bind);
  if (!address.ok()) return Status::error(context + ": " + address.status().message());
  if (address->kind != ListenAddress::kTcp) return Status::error(context + ": expected HOST:PORT");
  auto listening = bind_listener(*address, 128, 0);
  if (!listening.ok()) return Status::error("control " + listening.status().message());
  const int fd = *listening;
  auto bound = inspect_listener(fd);
  const int bound_port = bound.ok() ? bound->port : address->port;
  auto acceptor = adopt(fd, context, limits);
  if (!acceptor) return Status::from_errno(context + ": eventfd");
  acceptor->port_ = bound_port;
  return acceptor;
}

std::unique_ptr<ControlAcceptor> ControlAcceptor::adopt(int listen_fd, std::string name, Limits limits) {
  UniqueFd listener(listen_fd);
  const int flags = ::fcntl(listen_fd, F_GETFL);
  if (flags >= 0) ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const int err = errno;
    listener.reset();
    errno = err;
    return nullptr;
  }
  return std::unique_ptr<ControlAcceptor>(
      new ControlAcceptor(listener.release(), wake, 0, std::move(name), limits));
}

ControlAcceptor::ControlAcceptor(int listen_fd, int wake_fd, int port, std::string name, Limits limits)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      name_(std::move(name)),
      limits_(limits),
      refusals_(name_ + ": refused a connection") {}

ControlAcceptor::~ControlAcceptor() {
  stop();
}

void ControlAcceptor::start(std::function<void(int fd)> hand_over) {
  hand_over_ = std::move(hand_over);
  thread_ = std::thread([this] { run(); });
}

void ControlAcceptor::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  // New clients are refused from now on instead of waiting in the queue.
  listen_fd_.reset();
}

std::string ControlAcceptor::peer_of(int fd) const {
  std::lock_guard lock(mutex_);
  auto it = accepted_.find(fd);
  return it == accepted_.end() ? std::string() : it->second.peer;
}

void ControlAcceptor::run() {
  int wait_ms = -1;
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, wait_ms);
    if (stopping_) return;
    if (n < 0 && errno != EINTR) {
      spdlog::error("{}: poll: {}", name_, std::strerror(errno));
      wait_ms = kRetryAfterMs;
      continue;
    }
    wait_ms = -1;
    if (n > 0 && (fds[0].revents & POLLIN) == 0) continue;
    // Out of descriptors: the connections wait in the kernel's queue until
    // some are free again (the listener stays readable, so poll with a pause).
    if (!accept_ready()) wait_ms = kRetryAfterMs;
  }
}

bool ControlAcceptor::accept_ready() {
  for (int i = 0; i < 64 && !stopping_; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EMFILE && errno != ENFILE) return true;  // EAGAIN: all taken
      refusals_.record("(out of file descriptors, retrying)");
      return false;
    }
    const std::string peer = peer_text(addr);
    const std::size_t open = prune_closed();
    std::string why;
    if (open >= limits_.max_connections) {
      why = std::to_string(open) + " connections are open (the most allowed)";
    } else if (const std::size_t left = fds_left(); left < limits_.fd_reserve) {
      why = "only " + std::to_string(left) + " file descriptors are left (" +
            std::to_string(limits_.fd_reserve) + " are kept for workers and the control socket)";
    }
    if (!why.empty()) {
      UniqueFd refused(fd);  // closed as the loop goes on
      refusals_.record("from " + peer + ": " + why);
      continue;
    }
    if (addr.ss_family != AF_UNIX) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    struct stat st {};
    ::fstat(fd, &st);
    {
      std::lock_guard lock(mutex_);
      accepted_[fd] = Accepted{st.st_dev, st.st_ino, peer};
    }
    hand_over_(fd);
  }
  return true;
}

std::size_t ControlAcceptor::prune_closed() {
  std::lock_guard lock(mutex_);
  for (auto it = accepted_.begin(); it != accepted_.end();) {
    struct stat st {};
    const bool same = ::fstat(it->first, &st) == 0 && st.st_dev == it->second.dev && st.st_ino == it->second.ino;
    it = same ? std::next(it) : accepted_.erase(it);
  }
  return accepted_.size();
}

}  // namespace greenfork::arbiter
