#include "greenfork/arbiter/config.hpp"

namespace greenfork::arbiter {

const char* to_string(HeartbeatMode mode) {
  switch (mode) {
    case HeartbeatMode::kAuto:
      return "auto";
    case HeartbeatMode::kGrpc:
      return "grpc";
    case HeartbeatMode::kNotify:
      return "notify";
    case HeartbeatMode::kNone:
      return "none";
  }
  return "auto";
}

std::optional<HeartbeatMode> parse_heartbeat_mode(const std::string& text) {
  for (HeartbeatMode m : {HeartbeatMode::kAuto, HeartbeatMode::kGrpc, HeartbeatMode::kNotify,
                          HeartbeatMode::kNone}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

}  // namespace greenfork::arbiter
