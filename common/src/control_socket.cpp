#include "greenfork/control_socket.hpp"

#include <unistd.h>

#include <cstdlib>

namespace greenfork {

std::string default_control_socket() {
  if (::geteuid() == 0) return "/run/arbiterd.sock";
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime != '\0') return std::string(runtime) + "/arbiterd.sock";
  return "/tmp/arbiterd-" + std::to_string(::geteuid()) + ".sock";
}

}  // namespace greenfork
