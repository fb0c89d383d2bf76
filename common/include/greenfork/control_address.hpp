// Where arbiterd's control socket is when nobody said: the one default that
// arbiterd (--control-socket) and gctl (--socket) share.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

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

}  // namespace greenfork
