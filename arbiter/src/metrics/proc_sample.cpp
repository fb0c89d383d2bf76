#include "greenfork/arbiter/metrics/proc_sample.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace greenfork::arbiter {

std::optional<double> parse_cpu_seconds(std::string_view stat, long ticks_per_second) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
  uint64_t ticks = 0;
  for (int field = 3; field <= 15; ++field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const size_t end = rest.find(' ');
    const std::string_view value = rest.substr(0, end);
    if (value.empty()) return std::nullopt;
    if (field >= 14) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
      ticks += v;
    }
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  return static_cast<double>(ticks) / static_cast<double>(ticks_per_second);
}

std::optional<double> process_cpu_seconds(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_cpu_seconds(std::string_view(buf, static_cast<size_t>(n)), ::sysconf(_SC_CLK_TCK));
}

std::optional<uint64_t> tcp_accept_queue(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return std::nullopt;
  if (domain != AF_INET && domain != AF_INET6) return std::nullopt;
  tcp_info info{};
  len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
  if (info.tcpi_state != TCP_LISTEN) return std::nullopt;
  // For a listening socket Linux reports the accept queue's length here
  // (and its limit, the backlog, in tcpi_sacked).
  return info.tcpi_unacked;
}

}  // namespace greenfork::arbiter
