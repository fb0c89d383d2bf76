#include "greenfork/ctl/control_address.hpp"

#include <algorithm>

namespace greenfork::ctl {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

ControlAddress unix_address(std::string path) {
  ControlAddress address;
  address.is_unix = true;
  address.path = std::move(path);
  address.display = address.path;
  address.grpc_target = "unix:" + address.path;
  return address;
}

}  // namespace

StatusOr<ControlAddress> parse_control_address(const std::string& text) {
  if (text.empty()) return Status::error("--socket: empty address");
  if (text.rfind("unix:", 0) == 0) {
    std::string path = text.substr(5);
    if (path.empty()) return Status::error("--socket " + text + ": empty unix socket path");
    return unix_address(std::move(path));
  }
  if (text.front() == '/' || text.front() == '.') return unix_address(text);
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return unix_address(text);  // a relative path
  ControlAddress address;
  address.is_unix = false;
  address.host = text.substr(0, colon);
  address.port = text.substr(colon + 1);
  if (address.host.size() >= 2 && address.host.front() == '[' && address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  if (address.host.empty() || !all_digits(address.port) || address.port.size() > 5 ||
      std::stoul(address.port) > 65535 || std::stoul(address.port) == 0) {
    return Status::error("--socket " + text +
                         ": not a unix socket path (/path, unix:/path) or HOST:PORT");
  }
  address.display = text;
  address.grpc_target = address.host.find(':') != std::string::npos
                            ? "[" + address.host + "]:" + address.port
                            : text;
  return address;
}

}  // namespace greenfork::ctl
