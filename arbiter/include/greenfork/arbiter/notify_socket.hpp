// The NOTIFY_SOCKET arbiterd creates for its workers: a SOCK_DGRAM unix
// socket file in a fresh 0700 directory (only arbiterd's user can reach
// it, unlike an abstract name any local user can write to), with
// SO_PASSCRED, so every datagram carries the sender's pid
// (SCM_CREDENTIALS), which the kernel vouches for.
//
//   auto sock = NotifySocket::open("/run/user/1000");
//   setenv NOTIFY_SOCKET=sock->address()  // "/run/user/1000/greenfork-notify.Ab12Cd/notify"
//   while (auto d = sock->receive()) handle(d->pid, parse_notify_message(d->text));
//   // the destructor removes the socket file and its directory
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter {

struct NotifyDatagram {
  pid_t pid = 0;  // from SCM_CREDENTIALS; 0 when the kernel gave none
  std::string text;
};

class NotifySocket {
 public:
  // Creates a private directory under `parent_dir` and binds "notify" in
  // it; non-blocking, CLOEXEC.
  static StatusOr<NotifySocket> open(const std::string& parent_dir);
  // Where open() puts the directory: $XDG_RUNTIME_DIR when usable, else
  // $TMPDIR, else /tmp.
  static std::string default_parent_dir();
  NotifySocket(NotifySocket&& other) noexcept;
  NotifySocket& operator=(NotifySocket&& other) noexcept;
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket();

  int fd() const { return fd_.get(); }
  // The NOTIFY_SOCKET value: the socket file's path.
  const std::string& address() const { return address_; }
  const std::string& directory() const { return dir_; }
  // Workers that run as other users (arbiterd is root): the directory
  // becomes 0711 and the socket 0666; the sender pid check still applies.
  Status allow_other_users();
  // One datagram, or nullopt when none is waiting.
  std::optional<NotifyDatagram> receive();

 private:
  NotifySocket(int fd, std::string dir, std::string address)
      : fd_(fd), dir_(std::move(dir)), address_(std::move(address)) {}
  void remove();
  UniqueFd fd_;
  std::string dir_;
  std::string address_;
};

}  // namespace greenfork::arbiter
