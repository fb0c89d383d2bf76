// Where arbiterd's control socket lives unless --control-socket / --socket
// says otherwise. arbiterd binds it, gctl connects to it: one definition.
//
//   std::string path = greenfork::default_control_socket();
//   // "/run/user/1000/arbiterd.sock", or "/run/arbiterd.sock" as root
#pragma once

#include <string>

namespace greenfork {

// root: /run/arbiterd.sock; otherwise $XDG_RUNTIME_DIR/arbiterd.sock, and
// /tmp/arbiterd-<uid>.sock when XDG_RUNTIME_DIR is unset.
std::string default_control_socket();

}  // namespace greenfork
