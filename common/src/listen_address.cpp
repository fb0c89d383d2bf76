#include "greenfork/listen_address.hpp"
#include "greenfork/unique_fd.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace greenfork {
namespace {

Status bad(const std::string& text, const std::string& why) {
  return Status::error("bad address '" + text + "': " + why);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

StatusOr<uint16_t> parse_port(const std::string& text, const std::string& port) {
  if (!all_digits(port)) return bad(text, "port '" + port + "' is not a number");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad(text, "port " + port + " is out of range (0-65535)");
  }
  return static_cast<uint16_t>(value);
}

StatusOr<ListenAddress> parse_tcp(const std::string& text, const std::string& rest) {
  ListenAddress a;
  a.kind = ListenAddress::kTcp;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return bad(text, "missing ']'");
    a.host = rest.substr(1, close - 1);
    a.ipv6 = true;
    if (a.host.empty()) return bad(text, "empty IPv6 address");
    in6_addr probe{};
    if (inet_pton(AF_INET6, a.host.c_str(), &probe) != 1) {
      return bad(text, "'" + a.host + "' is not an IPv6 address");
    }
    std::string after = rest.substr(close + 1);
    if (after.empty()) {
      a.port = kDefaultPort;
      return a;
    }
    if (after.front() != ':') return bad(text, "expected ':PORT' after ']'");
    port_text = after.substr(1);
  } else if (all_digits(rest)) {
    a.host = "0.0.0.0";
    port_text = rest;
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) {
      a.host = rest;
      a.port = kDefaultPort;
      return a;
    }
    if (rest.find(':') != colon) {
      return bad(text, "IPv6 addresses need brackets, like [::1]:8000");
    }
    a.host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (a.host.empty()) a.host = "0.0.0.0";
  }
  if (a.host.find_first_of(" \t/") != std::string::npos) {
    return bad(text, "'" + a.host + "' is not a host name");
  }
  auto port = parse_port(text, port_text);
  if (!port.ok()) return port.status();
  a.port = *port;
  return a;
}

std::string strip_prefix(const std::string& s, const std::string& prefix, bool* had) {
  *had = s.compare(0, prefix.size(), prefix) == 0;
  return *had ? s.substr(prefix.size()) : s;
}

// sockaddr_un for `path`; false when it does not fit.
bool make_unix_addr(const std::string& path, sockaddr_un* out) {
  *out = {};
  out->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(out->sun_path)) return false;
  std::memcpy(out->sun_path, path.data(), path.size());
  return true;
}

constexpr socklen_t kUnixLen = sizeof(sockaddr_un);

// Removes a socket file that nobody accepts on any more. A live listener
// (connect() succeeds, or the backlog is full: EAGAIN) is an error.
Status clear_stale_unix_socket(const ListenAddress& a, const sockaddr_un& sa) {
  struct stat st{};
  if (::lstat(a.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok_status();
    return Status::from_errno("stat " + a.to_string());
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::error(a.to_string() + ": file exists and is not a socket");
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) return Status::from_errno("socket " + a.to_string());
  int rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), kUnixLen);
  int err = errno;
  probe.reset();
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return Status::error(a.to_string() + ": already in use by a running process");
  }
  if (err != ECONNREFUSED && err != ENOENT) {
    return Status::from_errno("connect " + a.to_string(), err);
  }
  if (::unlink(a.path.c_str()) != 0 && errno != ENOENT) {
    return Status::from_errno("unlink stale " + a.to_string());
  }
  return Status::ok_status();
}

StatusOr<int> bind_unix(const ListenAddress& a, int backlog, mode_t socket_umask) {
  sockaddr_un sa{};
  if (!make_unix_addr(a.path, &sa)) {
    return Status::error(a.to_string() + ": path is empty or longer than " +
                         std::to_string(sizeof(sa.sun_path) - 1) + " bytes");
  }
  Status cleared = clear_stale_unix_socket(a, sa);
  if (!cleared.ok()) return cleared;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Status::from_errno("socket " + a.to_string());
  mode_t old = ::umask(socket_umask);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), kUnixLen);
  int err = errno;
  ::umask(old);
  if (rc != 0) return Status::from_errno("bind " + a.to_string(), err);
  if (::listen(fd.get(), backlog) != 0) {
    err = errno;
    fd.reset();
    ::unlink(a.path.c_str());
    return Status::from_errno("listen " + a.to_string(), err);
  }
  return fd.release();
}

StatusOr<int> bind_tcp(const ListenAddress& a, int backlog, bool reuse_port) {
  addrinfo hints{};
  hints.ai_family = a.ipv6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(a.port);
  int gai = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return Status::error("resolve " + a.to_string() + ": " + ::gai_strerror(gai));
  }
  // Gunicorn binds the first address a name resolves to; so do we.
  const addrinfo* ai = found;
  UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd) {
    int err = errno;
    ::freeaddrinfo(found);
    return Status::from_errno("socket " + a.to_string(), err);
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ai->ai_family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int rc = ::bind(fd.get(), ai->ai_addr, ai->ai_addrlen);
  int err = errno;
  ::freeaddrinfo(found);
  if (rc != 0) return Status::from_errno("bind " + a.to_string(), err);
  if (::listen(fd.get(), backlog) != 0) return Status::from_errno("listen " + a.to_string());
  return fd.release();
}

// Numeric form of a literal host ("0.0.0.0" for "", "::" stays "::"), or the
// host unchanged when it is a name.
std::string numeric_host(const ListenAddress& a) {
  unsigned char buf[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  int family = a.ipv6 ? AF_INET6 : AF_INET;
  if (inet_pton(family, a.host.c_str(), buf) == 1 &&
      inet_ntop(family, buf, out, sizeof out) != nullptr) {
    return out;
  }
  return a.host;
}

}  // namespace

std::string ListenAddress::to_string() const {
  switch (kind) {
    case kUnix:
      return "unix:" + path;
    case kFd:
      return "fd://" + std::to_string(fd);
    case kTcp:
      break;
  }
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string ListenAddress::fd_name() const {
  std::string out;
  for (char c : to_string()) {
    if (c == ':') {
      out += "%3A";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

StatusOr<ListenAddress> parse_listen_address(const std::string& text) {
  if (text.empty()) return bad(text, "empty");
  if (text.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
    return bad(text, "contains a control character");
  }
  bool had = false;
  std::string rest = strip_prefix(text, "unix://", &had);
  if (!had) rest = strip_prefix(text, "unix:", &had);
  if (had) {
    if (rest.empty()) return bad(text, "missing socket path after 'unix:'");
    ListenAddress a;
    a.kind = ListenAddress::kUnix;
    a.path = rest;
    sockaddr_un probe{};
    if (!make_unix_addr(rest, &probe)) {
      return bad(text, "socket path longer than " + std::to_string(sizeof(probe.sun_path) - 1) +
                           " bytes");
    }
    return a;
  }
  rest = strip_prefix(text, "fd://", &had);
  if (had) {
    if (!all_digits(rest) || rest.size() > 9) return bad(text, "fd://N needs a file descriptor number");
    ListenAddress a;
    a.kind = ListenAddress::kFd;
    a.fd = std::stoi(rest);
    return a;
  }
  rest = strip_prefix(text, "tcp://", &had);
  if (rest.empty()) return bad(text, "missing host and port");
  return parse_tcp(text, rest);
}

StatusOr<int> bind_listener(const ListenAddress& address, int backlog, mode_t socket_umask, bool reuse_port) {
  switch (address.kind) {
    case ListenAddress::kUnix:
      return bind_unix(address, backlog, socket_umask);
    case ListenAddress::kTcp:
      return bind_tcp(address, backlog, reuse_port);
    case ListenAddress::kFd:
      break;
  }
  return Status::error(address.to_string() + ": an inherited socket is adopted, not bound");
}

StatusOr<ListenAddress> inspect_listener(int fd) {
  std::string name = "fd://" + std::to_string(fd);
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    if (errno == ENOTSOCK) return Status::error(name + ": not a socket");
    return Status::from_errno(name);
  }
  if (type != SOCK_STREAM) return Status::error(name + ": not a stream socket");
  int listening = 0;
  len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
    return Status::from_errno(name + ": getsockopt SO_ACCEPTCONN");
  }
  if (!listening) return Status::error(name + ": socket is not listening");
  sockaddr_storage ss{};
  len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Status::from_errno(name + ": getsockname");
  }
  ListenAddress a;
  char host[INET6_ADDRSTRLEN] = {};
  switch (ss.ss_family) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
      a.host = host;
      a.port = ntohs(in->sin_port);
      return a;
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
      a.host = host;
      a.ipv6 = true;
      a.port = ntohs(in6->sin6_port);
      return a;
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
      a.kind = ListenAddress::kUnix;
      std::size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      a.path.assign(un->sun_path, strnlen(un->sun_path, max));
      return a;
    }
    default:
      return Status::error(name + ": unsupported socket family " + std::to_string(ss.ss_family));
  }
}

bool same_endpoint(const ListenAddress& a, const ListenAddress& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ListenAddress::kUnix:
      return a.path == b.path;
    case ListenAddress::kFd:
      return a.fd == b.fd;
    case ListenAddress::kTcp:
      break;
  }
  return a.port == b.port && a.ipv6 == b.ipv6 && numeric_host(a) == numeric_host(b);
}

}  // namespace greenfork
