// The error log's syslog sink (syslog_sink.hpp).
#include "greenfork/syslog_sink.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace greenfork {
namespace {

// Gunicorn's SYSLOG_FACILITIES (glogging.py).
const std::map<std::string, int> kFacilities = {
    {"auth", 4},    {"authpriv", 10}, {"cron", 9},    {"daemon", 3},  {"ftp", 11},    {"kern", 0},
    {"lpr", 6},     {"mail", 2},      {"news", 7},    {"security", 4}, {"syslog", 5}, {"user", 1},
    {"uucp", 8},    {"local0", 16},   {"local1", 17}, {"local2", 18}, {"local3", 19}, {"local4", 20},
    {"local5", 21}, {"local6", 22},   {"local7", 23}};

struct Target {
  bool unix_socket = false;
  int type = SOCK_DGRAM;  // unix without "#dgram": 0, datagram first then stream
  std::string path;
  std::string host;
  std::string port = "514";
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Gunicorn's parse_syslog_address.
StatusOr<Target> parse_address(const std::string& address) {
  Target t;
  if (address.rfind("unix://", 0) == 0) {
    t.unix_socket = true;
    std::string rest = address.substr(7);
    auto hash = rest.find('#');
    t.type = 0;
    if (hash != std::string::npos) {
      if (rest.substr(hash + 1) == "dgram") t.type = SOCK_DGRAM;
      rest = rest.substr(0, hash);
    }
    if (rest.empty() || rest.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::error("syslog address " + address + ": bad unix socket path");
    }
    t.path = rest;
    return t;
  }
  std::string rest;
  if (address.rfind("udp://", 0) == 0) {
    rest = address.substr(6);
  } else if (address.rfind("tcp://", 0) == 0) {
    rest = address.substr(6);
    t.type = SOCK_STREAM;
  } else {
    return Status::error("syslog address " + address + ": invalid (udp://HOST:PORT, tcp://HOST:PORT or unix://PATH)");
  }
  if (!rest.empty() && rest.front() == '[' && rest.find(']') != std::string::npos) {
    t.host = lower(rest.substr(1, rest.find(']') - 1));
    rest = rest.substr(rest.find(']') + 1);
  } else {
    t.host = lower(rest.substr(0, rest.find(':')));
    rest = rest.find(':') == std::string::npos ? "" : rest.substr(rest.find(':'));
  }
  if (t.host.empty()) t.host = "localhost";
  if (!rest.empty() && rest.front() == ':') {
    t.port = rest.substr(1);
    if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos || t.port.size() > 5 ||
        std::stoul(t.port) > 65535) {
      return Status::error("syslog address " + address + ": '" + t.port + "' is not a valid port number");
    }
  }
  return t;
}

int severity(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

class SyslogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  SyslogSink(Target target, int facility, std::string tag)
      : target_(std::move(target)), facility_(facility), tag_(std::move(tag)) {}
  ~SyslogSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  SyslogSink(const SyslogSink&) = delete;
  SyslogSink& operator=(const SyslogSink&) = delete;

  Status connect_now() {
    last_attempt_ = std::chrono::steady_clock::now();
    if (target_.unix_socket) {
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::memcpy(sa.sun_path, target_.path.c_str(), target_.path.size() + 1);
      for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
        if (target_.type != 0 && type != target_.type) continue;
        int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0) return Status::from_errno("syslog socket");
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
          fd_ = fd;
          stream_ = type == SOCK_STREAM;
          return {};
        }
        const int err = errno;
        ::close(fd);
        if (err != EPROTOTYPE || target_.type != 0) {
          errno = err;
          return Status::from_errno("syslog connect " + target_.path);
        }
      }
      return Status::error("syslog connect " + target_.path + ": no socket type works");
    }
    addrinfo hints{};
    hints.ai_socktype = target_.type;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(target_.host.c_str(), target_.port.c_str(), &hints, &found); rc != 0) {
      return Status::error("syslog address " + target_.host + ": " + ::gai_strerror(rc));
    }
    Status last = Status::error("syslog address " + target_.host + ": no address");
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        stream_ = target_.type == SOCK_STREAM;
        ::freeaddrinfo(found);
        return {};
      }
      last = Status::from_errno("syslog connect " + target_.host + ":" + target_.port);
      ::close(fd);
    }
    ::freeaddrinfo(found);
    return last;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line = "<" + std::to_string(facility_ * 8 + severity(msg.level)) + ">" + tag_ + ": [" +
                       std::to_string(::getpid()) + "] ";
    line.append(msg.payload.data(), msg.payload.size());
    line += '\0';
    if (fd_ < 0) {
      // A broken stream is tried again, not on every line: a dead syslog
      // server must not cost each log call a connect().
      if (std::chrono::steady_clock::now() - last_attempt_ < std::chrono::seconds(5) || !connect_now().ok()) return;
    }
    ssize_t n = ::send(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && stream_ && errno != EAGAIN) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  void flush_() override {}

 private:
  Target target_;
  int facility_;
  std::string tag_;
  int fd_ = -1;
  bool stream_ = false;
  std::chrono::steady_clock::time_point last_attempt_{};
};

}  // namespace

Status check_syslog(const std::string& address, const std::string& facility) {
  if (kFacilities.count(lower(facility)) == 0) {
    return Status::error("unknown syslog facility '" + facility + "' (user, daemon, local0 ... local7, ...)");
  }
  auto t = parse_address(address);
  return t.ok() ? Status() : t.status();
}

Status add_syslog(const SyslogOptions& options) {
  if (Status s = check_syslog(options.address, options.facility); !s.ok()) return s;
  auto target = parse_address(options.address);
  auto sink = std::make_shared<SyslogSink>(*target, kFacilities.at(lower(options.facility)), options.tag);
  if (Status s = sink->connect_now(); !s.ok()) return s;
  auto logger = spdlog::default_logger();
  if (!logger) return Status::error("syslog: no error log to add to");
  logger->sinks().push_back(std::move(sink));
  return {};
}

std::string syslog_tag(const std::string& prefix) {
  std::string p = prefix;
  for (char& c : p) {
    if (c == ':') c = '.';
  }
  return "gunicorn." + p + ".error";
}

}  // namespace greenfork
