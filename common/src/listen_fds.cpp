#include "greenfork/listen_fds.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "greenfork/contract.hpp"

namespace greenfork {

namespace {

// A whole string of decimal digits, nothing else; false otherwise.
bool strict_decimal(const char* text, long& out) {
  const size_t len = std::strlen(text);
  if (len == 0 || text[0] < '0' || text[0] > '9') return false;
  auto [end, ec] = std::from_chars(text, text + len, out);
  return ec == std::errc() && end == text + len;
}

}  // namespace

StatusOr<ListenFds> parse_listen_fds(const char* fds, const char* pid, const char* names,
                                     long self_pid) {
  ListenFds out;
  if (fds == nullptr) return out;
  if (pid == nullptr) {  // sd_listen_fds(3): then they are not ours
    out.kind = ListenFds::kOtherProcess;
    return out;
  }
  long p = 0;
  if (!strict_decimal(pid, p) || p <= 0) {
    return Status::error(std::string(contract::kListenPid) + "='" + pid + "' is not a pid");
  }
  if (p != self_pid) {
    out.kind = ListenFds::kOtherProcess;
    return out;
  }
  long n = 0;
  if (!strict_decimal(fds, n) || n <= 0 || n > kMaxListenFds) {
    return Status::error(std::string(contract::kListenFds) + "='" + fds +
                         "' is not a number of sockets (1.." + std::to_string(kMaxListenFds) +
                         ")");
  }
  out.kind = ListenFds::kOurs;
  out.count = static_cast<int>(n);
  if (names != nullptr) {
    const std::string all = names;
    size_t start = 0;
    while (start <= all.size()) {
      const size_t colon = std::min(all.find(':', start), all.size());
      out.names.push_back(all.substr(start, colon - start));
      start = colon + 1;
    }
  }
  return out;
}

StatusOr<ListenFds> read_listen_fds(long self_pid) {
  return parse_listen_fds(std::getenv(contract::kListenFds), std::getenv(contract::kListenPid),
                          std::getenv(contract::kListenFdNames), self_pid);
}

}  // namespace greenfork
