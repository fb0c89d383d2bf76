#include "control_channel.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "greenfork/unique_fd.hpp"

namespace greenfork::ctl {
namespace {

Status unreachable(const ControlAddress& address, const std::string& why) {
  return Status::error(StatusCode::kUnavailable, "cannot reach arbiterd at " + address.display + ": " + why);
}

// connect() with a deadline; returns 0 or an errno.
int connect_within(int fd, const sockaddr* addr, socklen_t len, double timeout_seconds) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, addr, len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd p{fd, POLLOUT, 0};
  const int rc = ::poll(&p, 1, static_cast<int>(timeout_seconds * 1000));
  if (rc == 0) return ETIMEDOUT;
  if (rc < 0) return errno;
  int err = 0;
  socklen_t err_len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
  return err;
}

Status probe(const ControlAddress& address, double timeout_seconds) {
  if (address.is_unix) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (address.path.size() >= sizeof(sun.sun_path)) {
      return unreachable(address, "path too long for a unix socket");
    }
    address.path.copy(sun.sun_path, sizeof(sun.sun_path) - 1);
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return unreachable(address, std::strerror(errno));
    const int err = connect_within(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof(sun),
                                   timeout_seconds);
    return err == 0 ? Status() : unreachable(address, std::strerror(err));
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(address.host.c_str(), address.port.c_str(), &hints, &found); rc != 0) {
    return unreachable(address, ::gai_strerror(rc));
  }
  int err = ECONNREFUSED;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const UniqueFd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
      err = errno;
      continue;
    }
    err = connect_within(fd.get(), ai->ai_addr, ai->ai_addrlen, timeout_seconds);
    if (err == 0) break;
  }
  ::freeaddrinfo(found);
  return err == 0 ? Status() : unreachable(address, std::strerror(err));
}

}  // namespace

ControlChannel::ControlChannel(ControlAddress address, std::string token)
    : address_(std::move(address)), token_(std::move(token)) {
  grpc::ChannelArguments args;
  channel_ = grpc::CreateCustomChannel(address_.grpc_target, grpc::InsecureChannelCredentials(),
                                       args);
  stub_ = v1::Control::NewStub(channel_);
}

StatusOr<ControlChannel> ControlChannel::open(const ControlAddress& address, std::string token,
                                      double connect_timeout_seconds) {
  if (Status reachable = probe(address, connect_timeout_seconds); !reachable.ok()) {
    return reachable;
  }
  return ControlChannel(address, std::move(token));
}

std::unique_ptr<grpc::ClientContext> ControlChannel::context(double timeout_seconds) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::duration<double>(timeout_seconds)));
  }
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  return context;
}

Status from_grpc_status(const grpc::Status& answer) {
  if (answer.ok()) return {};
  return Status::error(static_cast<StatusCode>(answer.error_code()), answer.error_message());
}

}  // namespace greenfork::ctl
