#include "unix_control_socket.hpp"
#include "greenfork/unique_fd.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace greenfork::arbiter {
namespace {

enum class Probe { kAbsent, kStale, kLive };

std::string context_for(const std::string& path) { return "control socket " + path; }

StatusOr<Probe> probe(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Probe::kAbsent;
    return Status::from_errno(context_for(path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::error(context_for(path) + ": exists and is not a socket");
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Status::from_errno(context_for(path) + ": socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  fd.reset();
  if (rc == 0) return Probe::kLive;
  if (err == ECONNREFUSED || err == ENOENT) return Probe::kStale;
  return Status::from_errno(context_for(path) + ": connect", err);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

StatusOr<UnixControlSocket> UnixControlSocket::prepare(const std::string& path, bool takeover) {
  if (path.empty()) return Status::error("control socket: empty path");
  const std::string dir = directory_of(path);
  static std::atomic<unsigned> counter{0};
  std::string temp = dir + "/.arbiterd." + std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1)) + ".sock";
  constexpr size_t kMax = sizeof(sockaddr_un{}.sun_path) - 1;
  if (path.size() > kMax || temp.size() > kMax) {
    return Status::error(context_for(path) + ": path too long for a unix socket (max " +
                         std::to_string(kMax - (temp.size() - path.size())) + " characters)");
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Status::from_errno(context_for(path) + ": " + dir);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::from_errno(context_for(path) + ": " + dir);
  }
  auto state = probe(path);
  if (!state.ok()) return state.status();
  if (*state == Probe::kLive && !takeover) {
    return Status::error(context_for(path) + ": another arbiterd is listening");
  }
  if (*state == Probe::kStale && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::from_errno(context_for(path) + ": removing the stale socket");
  }
  ::unlink(temp.c_str());  // a leftover of a crashed process with our pid
  return UnixControlSocket(path, std::move(temp));
}

StatusOr<int> UnixControlSocket::listen_at_temporary() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Status::from_errno(context_for(path_) + ": socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  temp_path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const mode_t old_mask = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::umask(old_mask);
  if (rc != 0 || ::listen(fd.get(), 128) != 0) {
    return Status::from_errno(context_for(path_) + (rc != 0 ? ": bind " + temp_path_ : ": listen"),
                              rc != 0 ? err : errno);
  }
  return fd.release();
}

Status UnixControlSocket::publish() {
  if (::chmod(temp_path_.c_str(), 0600) != 0) {
    return Status::from_errno(context_for(path_) + ": chmod " + temp_path_);
  }
  struct stat st {};
  if (::stat(temp_path_.c_str(), &st) != 0) {
    return Status::from_errno(context_for(path_) + ": stat " + temp_path_);
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return Status::from_errno(context_for(path_) + ": rename " + temp_path_);
  }
  published_ = true;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return {};
}

void UnixControlSocket::remove_if_ours() {
  if (!published_) return;
  published_ = false;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

void UnixControlSocket::discard_temporary() { ::unlink(temp_path_.c_str()); }

}  // namespace greenfork::arbiter
