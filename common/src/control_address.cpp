#include "greenfork/control_address.hpp"

#include "greenfork/listen_address.hpp"

namespace greenfork {
namespace {

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
  const std::string context = "--socket " + text;
  if (text.rfind("unix:", 0) == 0) {
    auto parsed = parse_listen_address(text);
    if (!parsed.ok()) return Status::error(context + ": " + parsed.status().message());
    if (parsed->path.empty()) return Status::error(context + ": empty unix socket path");
    return unix_address(parsed->path);
  }
  if (text.front() == '/' || text.front() == '.') return unix_address(text);
  if (text.find(':') == std::string::npos) return unix_address(text);  // a relative path
  const std::string usage = ": not a unix socket path (/path, unix:/path) or HOST:PORT";
  auto parsed = parse_listen_address(text);
  if (!parsed.ok()) return Status::error(context + usage + " (" + parsed.status().message() + ")");
  // A client connects to a host: ":PORT" (all addresses, for binding) is no target.
  const std::string rest = text.rfind("tcp://", 0) == 0 ? text.substr(6) : text;
  if (rest.empty() || rest.front() == ':') return Status::error(context + usage + " (a host is needed)");
  if (parsed->kind != ListenAddress::kTcp || parsed->host.empty() || parsed->port == 0) {
    return Status::error(context + usage);
  }
  ControlAddress address;
  address.is_unix = false;
  address.host = parsed->host;
  address.port = std::to_string(parsed->port);
  address.display = text;
  address.grpc_target = parsed->ipv6 ? "[" + address.host + "]:" + address.port
                                     : address.host + ":" + address.port;
  return address;
}

}  // namespace greenfork
