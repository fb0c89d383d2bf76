#include "greenfork/sd_notify.hpp"
#include "greenfork/unique_fd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "greenfork/contract.hpp"

namespace greenfork {

Status sd_notify(std::string_view state) {
  const char* path = std::getenv(contract::kNotifySocket);
  if (path == nullptr || *path == '\0') return Status::ok_status();
  return sd_notify_to(path, state);
}

Status sd_notify_to(const std::string& socket_path, std::string_view state) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return Status::error("sd_notify: bad socket path '" + socket_path + "'");
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace
  } else {
    len += 1;  // include the terminating NUL
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Status::from_errno("sd_notify: socket");
  ssize_t n = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  if (n < 0) return Status::from_errno("sd_notify: sendto " + socket_path);
  return Status::ok_status();
}

}  // namespace greenfork
