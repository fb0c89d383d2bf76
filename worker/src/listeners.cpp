#include "listeners.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>


#include "greenfork/contract.hpp"
#include "greenfork/listen_address.hpp"
#include "greenfork/listen_fds.hpp"

namespace greenfork::worker {

namespace {

StatusOr<Listener> describe(int fd) {
  StatusOr<ListenAddress> address = inspect_listener(fd);
  if (!address.ok()) return address.status();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Status::from_errno("getsockname fd " + std::to_string(fd));
  }
  Listener l;
  l.fd = fd;
  l.family = ss.ss_family;
  l.name = address->to_string();
  l.unix_socket = address->kind == ListenAddress::kUnix;
  if (l.unix_socket) {
    l.host = address->path;
  } else {
    l.host = address->host;
    l.port = std::to_string(address->port);
  }
  return l;
}

}  // namespace

StatusOr<std::vector<Listener>> open_listeners(const std::vector<std::string>& bind,
                                               unsigned backlog,
                                               std::vector<std::string>& warnings) {
  std::vector<Listener> out;
  StatusOr<ListenFds> inherited = read_listen_fds(static_cast<long>(getpid()));
  if (!inherited.ok()) return inherited.status();
  if (inherited->kind != ListenFds::kNone) {
    unsetenv(contract::kListenFds);
    unsetenv(contract::kListenPid);
    unsetenv(contract::kListenFdNames);
    if (inherited->kind == ListenFds::kOtherProcess) {
      warnings.push_back("LISTEN_FDS ignored: LISTEN_PID is not this process");
    } else {
      if (!bind.empty()) warnings.push_back("-b ignored: listening sockets were inherited");
      for (int i = 0; i < inherited->count; ++i) {
        const int fd = contract::kListenFdsStart + i;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        StatusOr<Listener> l = describe(fd);
        if (!l.ok()) return l.status().with_context("inherited socket");
        out.push_back(std::move(*l));
      }
      return out;
    }
  }
  std::vector<std::string> specs = bind;
  if (specs.empty()) specs.push_back("127.0.0.1:8000");
  for (const std::string& spec : specs) {
    StatusOr<ListenAddress> address = parse_listen_address(spec);
    if (!address.ok()) return address.status();
    int fd = -1;
    if (address->kind == ListenAddress::kFd) {
      fd = address->fd;
    } else {
      StatusOr<int> bound = bind_listener(*address, static_cast<int>(backlog), 0);
      if (!bound.ok()) return bound.status();
      fd = *bound;
    }
    StatusOr<Listener> l = describe(fd);
    if (!l.ok()) return l.status();
    l->owned = address->kind != ListenAddress::kFd;
    out.push_back(std::move(*l));
  }
  return out;
}

}  // namespace greenfork::worker
