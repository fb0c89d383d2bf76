#include "greenfork/arbiter/notify_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace greenfork::arbiter {

std::string NotifySocket::default_parent_dir() {
  for (const char* name : {"XDG_RUNTIME_DIR", "TMPDIR"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v == '/' && ::access(v, W_OK | X_OK) == 0) return v;
  }
  return "/tmp";
}

StatusOr<NotifySocket> NotifySocket::open(const std::string& parent_dir) {
  std::string templ = parent_dir + "/greenfork-notify.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return Status::from_errno("notify socket: mkdtemp " + templ);
  std::string dir(buf.data());
  std::string path = dir + "/notify";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    ::rmdir(dir.c_str());
    return Status::error("notify socket: path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    Status s = Status::from_errno("notify socket: socket");
    ::rmdir(dir.c_str());
    return s;
  }
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0 ||
      ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    Status s = Status::from_errno("notify socket: bind " + path);
    fd.reset();
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
    return s;
  }
  return NotifySocket(fd.release(), std::move(dir), std::move(path));
}

Status NotifySocket::allow_other_users() {
  if (::chmod(dir_.c_str(), 0711) != 0) return Status::from_errno("notify socket: chmod " + dir_);
  if (::chmod(address_.c_str(), 0666) != 0) return Status::from_errno("notify socket: chmod " + address_);
  return {};
}

NotifySocket::NotifySocket(NotifySocket&& other) noexcept
    : fd_(std::move(other.fd_)),
      dir_(std::exchange(other.dir_, {})),
      address_(std::exchange(other.address_, {})) {}

NotifySocket& NotifySocket::operator=(NotifySocket&& other) noexcept {
  if (this != &other) {
    remove();
    fd_ = std::move(other.fd_);
    dir_ = std::exchange(other.dir_, {});
    address_ = std::exchange(other.address_, {});
  }
  return *this;
}

NotifySocket::~NotifySocket() { remove(); }

void NotifySocket::remove() {
  fd_.reset();
  if (!address_.empty()) ::unlink(address_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  address_.clear();
  dir_.clear();
}

std::optional<NotifyDatagram> NotifySocket::receive() {
  char buf[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::nullopt;
  NotifyDatagram d;
  d.text.assign(buf, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      d.pid = cred.pid;
    }
  }
  return d;
}

}  // namespace greenfork::arbiter
