#include "greenfork/arbiter/pid_file.hpp"
#include "greenfork/unique_fd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace greenfork::arbiter {

pid_t read_pid_file(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

StatusOr<PidFile> PidFile::create(const std::string& path, pid_t allowed_owner) {
  pid_t existing = read_pid_file(path);
  if (existing > 0 && existing != ::getpid() && existing != allowed_owner &&
      (::kill(existing, 0) == 0 || errno == EPERM)) {
    return Status::error("pid file " + path + ": arbiterd already running (pid " +
                         std::to_string(existing) + ")");
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return Status::from_errno("pid file " + path);
  std::string text = std::to_string(::getpid()) + "\n";
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  int err = errno;
  fd.reset();
  if (n != static_cast<ssize_t>(text.size()) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (n == static_cast<ssize_t>(text.size())) err = errno;
    ::unlink(tmp.c_str());
    return Status::from_errno("pid file " + path, err);
  }
  return PidFile(path);
}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void PidFile::remove() {
  if (path_.empty()) return;
  if (read_pid_file(path_) == ::getpid()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace greenfork::arbiter
