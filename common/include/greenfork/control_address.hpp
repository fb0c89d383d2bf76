// arbiterd's control socket as both programs name it: the default path that
// arbiterd (--control-socket) and gctl (--socket) share, and what an address
// given to `gctl --socket` means. Parsing does no I/O.
//
//   "/run/arbiterd.sock", "unix:/run/arbiterd.sock", "./a.sock"  -> unix socket
//   "127.0.0.1:7000", "[::1]:7000", "ops.example:7000"            -> TCP (token required)
//
// TCP addresses are read by parse_listen_address, arbiterd's parser for
// --control-bind, so both accept and refuse the same forms ("::1:7000" needs
// brackets; a port is required and not 0).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork {

// $XDG_RUNTIME_DIR/arbiterd.sock if XDG_RUNTIME_DIR is set, else
// /run/arbiterd.sock as root, else /tmp/arbiterd-<uid>.sock.
inline std::string default_control_socket() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/arbiterd.sock";
  }
  if (::geteuid() == 0) return "/run/arbiterd.sock";
  return "/tmp/arbiterd-" + std::to_string(::geteuid()) + ".sock";
}

struct ControlAddress {
  bool is_unix = true;
  std::string path;         // unix
  std::string host;         // TCP, without brackets
  std::string port;         // TCP
  std::string display;      // as shown in messages: the path, or HOST:PORT
  std::string grpc_target;  // "unix:/path" or "HOST:PORT" ("[v6]:PORT")
};

// Errors: "--socket x:y: not a unix socket path (/path, unix:/path) or HOST:PORT (...)".
StatusOr<ControlAddress> parse_control_address(const std::string& text);

}  // namespace greenfork
