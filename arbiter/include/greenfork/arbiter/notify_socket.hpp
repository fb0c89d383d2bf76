// The NOTIFY_SOCKET arbiterd creates for its workers: an abstract
// SOCK_DGRAM unix socket with SO_PASSCRED, so every datagram carries the
// sender's pid (SCM_CREDENTIALS) and cannot be forged by another process.
//
//   auto sock = NotifySocket::open("greenfork/1234/notify");
//   setenv NOTIFY_SOCKET=sock->address()           // "@greenfork/1234/notify"
//   while (auto d = sock->receive()) handle(d->pid, parse_notify_message(d->text));
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork::arbiter {

struct NotifyDatagram {
  pid_t pid = 0;  // from SCM_CREDENTIALS; 0 when the kernel gave none
  std::string text;
};

class NotifySocket {
 public:
  // Binds the abstract name (no file to clean up); non-blocking, CLOEXEC.
  static StatusOr<NotifySocket> open(const std::string& abstract_name);
  NotifySocket(NotifySocket&& other) noexcept;
  NotifySocket& operator=(NotifySocket&& other) noexcept;
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket();

  int fd() const { return fd_; }
  // The NOTIFY_SOCKET value: "@" + name.
  const std::string& address() const { return address_; }
  // One datagram, or nullopt when none is waiting.
  std::optional<NotifyDatagram> receive();

 private:
  NotifySocket(int fd, std::string address) : fd_(fd), address_(std::move(address)) {}
  int fd_ = -1;
  std::string address_;
};

}  // namespace greenfork::arbiter
