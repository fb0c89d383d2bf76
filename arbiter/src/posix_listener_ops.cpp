// ProcessOps' listener calls on Linux: arbiterd drops its own copy of a
// listening socket (a failed pool, a stop) and binds the address again when
// the pool comes back. Closing only our copy never disturbs another holder
// (systemd, the other master of an upgrade, a draining worker).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter::detail {
namespace {

std::string unix_path(const ClosedListener& c) {
  if (c.address.ss_family != AF_UNIX) return "";
  const auto* un = reinterpret_cast<const sockaddr_un*>(&c.address);
  size_t max = c.address_length > offsetof(sockaddr_un, sun_path)
                   ? c.address_length - offsetof(sockaddr_un, sun_path)
                   : 0;
  if (max == 0 || un->sun_path[0] == '\0') return "";  // unnamed or abstract
  return std::string(un->sun_path, ::strnlen(un->sun_path, max));
}

}  // namespace

StatusOr<ClosedListener> close_listener(int fd) {
  ClosedListener c;
  c.fd = fd;
  c.address_length = sizeof c.address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&c.address), &c.address_length) != 0) {
    return Status::from_errno("close listener fd " + std::to_string(fd) + ": getsockname");
  }
  if (c.address.ss_family == AF_INET6) {
    socklen_t len = sizeof c.v6only;
    if (::getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &c.v6only, &len) != 0) c.v6only = -1;
  }
  std::string path = unix_path(c);
  struct stat st{};
  if (!path.empty() && ::stat(path.c_str(), &st) == 0) c.unix_mode = st.st_mode & 07777;
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd) return Status::from_errno("close listener: open /dev/null");
  // dup3 closes our copy of the socket and keeps the number taken.
  if (::dup3(null_fd.get(), fd, O_CLOEXEC) < 0) {
    return Status::from_errno("close listener fd " + std::to_string(fd) + ": dup3");
  }
  return c;
}

Status reopen_listener(const ClosedListener& c, int backlog) {
  const std::string what = "reopen listener fd " + std::to_string(c.fd);
  UniqueFd socket(::socket(c.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return Status::from_errno(what + ": socket");
  const int s = socket.get();
  auto fail = [&](const char* call) { return Status::from_errno(what + ": " + call); };
  int one = 1;
  if (c.address.ss_family != AF_UNIX &&
      ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return fail("SO_REUSEADDR");
  }
  if (c.address.ss_family == AF_INET6 && c.v6only >= 0 &&
      ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &c.v6only, sizeof c.v6only) != 0) {
    return fail("IPV6_V6ONLY");
  }
  std::string path = unix_path(c);
  if (!path.empty()) ::unlink(path.c_str());  // our old socket's file
  if (::bind(s, reinterpret_cast<const sockaddr*>(&c.address), c.address_length) != 0) {
    return fail("bind");
  }
  if (!path.empty() && c.unix_mode != 0 && ::chmod(path.c_str(), c.unix_mode) != 0) {
    return fail("chmod");
  }
  if (::listen(s, backlog) != 0) return fail("listen");
  if (::dup3(s, c.fd, O_CLOEXEC) < 0) return fail("dup3");
  return {};  // c.fd is the listener now; the temporary number closes
}

}  // namespace greenfork::arbiter::detail
