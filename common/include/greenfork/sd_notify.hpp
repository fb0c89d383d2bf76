// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
//
//   greenfork::sd_notify("READY=1\nSTATUS=serving");
//
// Abstract sockets ("@name") are supported. Returns OK and sends nothing when
// NOTIFY_SOCKET is unset, like systemd's own sd_notify.
#pragma once

#include <string>
#include <string_view>

#include "greenfork/status.hpp"

namespace greenfork {

Status sd_notify(std::string_view state);
// The same to an explicit socket path (tests, arbiterd's own workers).
Status sd_notify_to(const std::string& socket_path, std::string_view state);

}  // namespace greenfork
