#include "statsd.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#ifdef GF_HAVE_WSGI
#include "greenfork/wsgi/log_bridge.hpp"
#endif

namespace greenfork::worker {

namespace {

// Below a typical path MTU (1500 - IP/UDP headers): never fragmented.
constexpr size_t kDatagram = 1432;

struct Address {
  bool unix_socket = false;
  std::string host, port, path;
};

StatusOr<Address> parse(const std::string& text) {
  Address a;
  if (text.rfind("unix:", 0) == 0) {
    a.unix_socket = true;
    a.path = text.substr(text.rfind("unix://", 0) == 0 ? 7 : 5);
    if (a.path.empty() || a.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return Status::error("--statsd-host " + text + ": bad unix socket path");
    }
    return a;
  }
  std::string rest = text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return Status::error("--statsd-host " + text + ": missing ']'");
    a.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return Status::error("--statsd-host " + text + ": bad address");
    a.port = rest.empty() ? "8125" : rest.substr(1);
  } else {
    const size_t colon = rest.rfind(':');
    a.host = rest.substr(0, colon);
    a.port = colon == std::string::npos ? "8125" : rest.substr(colon + 1);
  }
  char* end = nullptr;
  const long port = std::strtol(a.port.c_str(), &end, 10);
  if (a.host.empty() || a.port.empty() || *end != '\0' || port < 1 || port > 65535) {
    return Status::error("--statsd-host " + text + ": expected HOST:PORT or unix:PATH");
  }
  return a;
}

}  // namespace

LogRecordCounter::Counts LogRecordCounter::take() {
  Counts c;
  c.critical = critical_.exchange(0, std::memory_order_relaxed);
  c.error = error_.exchange(0, std::memory_order_relaxed);
  c.warning = warning_.exchange(0, std::memory_order_relaxed);
  c.exception = exception_.exchange(0, std::memory_order_relaxed);
  return c;
}

void LogRecordCounter::sink_it_(const spdlog::details::log_msg& msg) {
#ifdef GF_HAVE_WSGI
  // Python's logger.exception(): Gunicorn counts it as exception only.
  if (msg.source.funcname != nullptr && std::strcmp(msg.source.funcname, wsgi::kExceptionRecord) == 0) {
    exception_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
#endif
  switch (msg.level) {
    case spdlog::level::critical: critical_.fetch_add(1, std::memory_order_relaxed); break;
    case spdlog::level::err: error_.fetch_add(1, std::memory_order_relaxed); break;
    case spdlog::level::warn: warning_.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
  }
}

Status StatsdClient::check_address(const std::string& address) { return parse(address).status(); }

StatusOr<std::unique_ptr<StatsdClient>> StatsdClient::open(const std::string& address,
                                                           const std::string& prefix,
                                                           const std::string& tags) {
  StatusOr<Address> a = parse(address);
  if (!a.ok()) return a.status();
  int fd = -1;
  if (a->unix_socket) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::from_errno("statsd socket");
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, a->path.c_str(), a->path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
      Status st = Status::from_errno("connect statsd " + address);
      ::close(fd);
      return st;
    }
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (int gai = ::getaddrinfo(a->host.c_str(), a->port.c_str(), &hints, &found); gai != 0) {
      return Status::error("resolve statsd " + address + ": " + ::gai_strerror(gai));
    }
    fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int rc = fd < 0 ? -1 : ::connect(fd, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (rc != 0) {
      Status st = Status::from_errno("connect statsd " + address);
      if (fd >= 0) ::close(fd);
      return st;
    }
  }
  // Gunicorn's prefix: a trailing dot is added unless there is one.
  std::string p = prefix;
  if (!p.empty() && p.back() != '.') p.push_back('.');
  return std::unique_ptr<StatsdClient>(new StatsdClient(fd, p, tags.empty() ? "" : "|#" + tags));
}

StatsdClient::StatsdClient(int fd, std::string prefix, std::string tags)
    : fd_(fd), prefix_(std::move(prefix)), tags_(std::move(tags)),
      counter_(std::make_shared<LogRecordCounter>()) {
  buffer_.reserve(kDatagram + 256);
}

StatsdClient::~StatsdClient() { ::close(fd_); }

void StatsdClient::add(std::string_view name, std::string_view value, std::string_view type) {
  const size_t len = prefix_.size() + name.size() + value.size() + type.size() + tags_.size() + 3;
  if (!buffer_.empty() && buffer_.size() + len > kDatagram) send();
  if (!buffer_.empty()) buffer_.push_back('\n');
  buffer_.append(prefix_).append(name).push_back(':');
  buffer_.append(value).push_back('|');
  buffer_.append(type).append(tags_);
}

void StatsdClient::add_count(std::string_view name, uint64_t count) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, count);
  add(name, std::string_view(text, static_cast<size_t>(end - text)), "c|@1.0");
}

void StatsdClient::request(int status, std::chrono::microseconds duration) {
  // Milliseconds with three decimals, without printf.
  const int64_t us = duration.count() < 0 ? 0 : duration.count();
  char ms[32];
  auto [end, ec] = std::to_chars(ms, ms + 20, us / 1000);
  *end++ = '.';
  const int64_t frac = us % 1000;
  *end++ = static_cast<char>('0' + frac / 100);
  *end++ = static_cast<char>('0' + frac / 10 % 10);
  *end++ = static_cast<char>('0' + frac % 10);
  add("gunicorn.request.duration", std::string_view(ms, static_cast<size_t>(end - ms)), "ms");
  ++requests_;
  if (status >= 100 && status < 1000) {
    if (statuses_[static_cast<size_t>(status)]++ == 0) seen_statuses_.push_back(status);
  }
}

void StatsdClient::flush() {
  if (requests_ != 0) add_count("gunicorn.requests", requests_);
  requests_ = 0;
  for (const int status : seen_statuses_) {
    char name[40] = "gunicorn.request.status.";
    const size_t at = std::strlen(name);
    auto [end, ec] = std::to_chars(name + at, name + sizeof name, status);
    add_count(std::string_view(name, static_cast<size_t>(end - name)),
              statuses_[static_cast<size_t>(status)]);
    statuses_[static_cast<size_t>(status)] = 0;
  }
  seen_statuses_.clear();
  const LogRecordCounter::Counts c = counter_->take();
  const std::pair<std::string_view, uint64_t> logs[] = {{"gunicorn.log.critical", c.critical},
                                                        {"gunicorn.log.error", c.error},
                                                        {"gunicorn.log.warning", c.warning},
                                                        {"gunicorn.log.exception", c.exception}};
  for (const auto& [name, count] : logs) {
    if (count != 0) add_count(name, count);
  }
  if (!buffer_.empty()) send();
}

void StatsdClient::flush_every(asio::io_context& io, std::chrono::milliseconds interval) {
  timer_ = std::make_unique<asio::steady_timer>(io);
  arm(interval);
}

void StatsdClient::arm(std::chrono::milliseconds interval) {
  timer_->expires_after(interval);
  timer_->async_wait([this, interval](const asio::error_code& ec) {
    if (ec || !timer_) return;
    flush();
    arm(interval);
  });
}

void StatsdClient::send() {
  // Non-blocking: EAGAIN (a full socket buffer), ECONNREFUSED (nobody
  // listening yet) and the rest drop this datagram; metrics never wait.
  if (::send(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) ++dropped_;
  buffer_.clear();
}

}  // namespace greenfork::worker
