// The gunicorn.workers gauge (statsd_gauge.hpp).
#include "greenfork/arbiter/statsd_gauge.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace greenfork::arbiter {
namespace {

struct HostPort {
  std::string host;
  std::string port;
};

StatusOr<HostPort> split(const std::string& text) {
  HostPort hp;
  std::string rest = text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return Status::error("--statsd-host " + text + ": missing ']'");
    hp.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Status::error("--statsd-host " + text + ": HOST:PORT expected");
    hp.port = rest.substr(1);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) return Status::error("--statsd-host " + text + ": HOST:PORT or unix:PATH expected");
    hp.host = rest.substr(0, colon);
    hp.port = rest.substr(colon + 1);
  }
  if (hp.host.empty() || hp.port.empty() || hp.port.find_first_not_of("0123456789") != std::string::npos ||
      hp.port.size() > 5 || std::stoul(hp.port) > 65535) {
    return Status::error("--statsd-host " + text + ": HOST:PORT with a port number expected");
  }
  return hp;
}

}  // namespace

std::string StatsdGauge::normalize_prefix(const std::string& prefix) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '.') p.pop_back();
  return p.size() >= 2 ? p + "." : prefix;
}

Status StatsdGauge::check_address(const std::string& host) {
  if (host.rfind("unix:", 0) == 0) {
    std::string path = host.substr(5);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::error("--statsd-host " + host + ": bad unix socket path");
    }
    return {};
  }
  auto hp = split(host);
  return hp.ok() ? Status() : hp.status();
}

StatusOr<std::unique_ptr<StatsdGauge>> StatsdGauge::open(const std::string& host, const std::string& prefix,
                                                         const std::string& tags) {
  if (Status s = check_address(host); !s.ok()) return s;
  int fd = -1;
  if (host.rfind("unix:", 0) == 0) {
    std::string path = host.substr(5);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::from_errno("statsd socket");
    // Not connected: a statsd that is not there yet (or restarts) is not an
    // error, each datagram is addressed (sendto) and dropped until it is.
    auto gauge = std::unique_ptr<StatsdGauge>(new StatsdGauge(fd, normalize_prefix(prefix), tags));
    gauge->unix_addr_ = sa;
    return gauge;
  } else {
    auto hp = split(host);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(hp->host.c_str(), hp->port.c_str(), &hints, &found); rc != 0) {
      return Status::error("--statsd-host " + host + ": " + ::gai_strerror(rc));
    }
    for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
      fd = ::socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        ::close(fd);
        fd = -1;
      }
    }
    ::freeaddrinfo(found);
    if (fd < 0) return Status::from_errno("--statsd-host " + host);
  }
  return std::unique_ptr<StatsdGauge>(new StatsdGauge(fd, normalize_prefix(prefix), tags));
}

StatsdGauge::~StatsdGauge() {
  if (fd_ >= 0) ::close(fd_);
}

void StatsdGauge::workers(unsigned count) {
  if (last_ && *last_ == count) return;
  last_ = count;
  std::string line = prefix_ + "gunicorn.workers:" + std::to_string(count) + "|g";
  if (!tags_.empty()) line += "|#" + tags_;
  if (unix_addr_) {
    (void)::sendto(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&*unix_addr_), sizeof *unix_addr_);
  } else {
    (void)::send(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
}

}  // namespace greenfork::arbiter
