// What `gctl --socket ADDR` means. Pure parsing, no I/O.
//
//   "/run/arbiterd.sock", "unix:/run/arbiterd.sock", "./a.sock"  -> unix socket
//   "127.0.0.1:7000", "[::1]:7000", "ops.example:7000"            -> TCP (token required)
#pragma once

#include <string>

#include "greenfork/status.hpp"

namespace greenfork::ctl {

struct ControlAddress {
  bool is_unix = true;
  std::string path;  // unix
  std::string host;  // TCP, without brackets
  std::string port;  // TCP
  std::string display;      // as shown in messages: the path, or HOST:PORT
  std::string grpc_target;  // "unix:/path" or "HOST:PORT" ("[v6]:PORT")
};

StatusOr<ControlAddress> parse_control_address(const std::string& text);

}  // namespace greenfork::ctl
