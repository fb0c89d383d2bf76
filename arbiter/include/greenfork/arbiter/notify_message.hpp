// sd_notify datagrams as workers send them ("READY=1\nSTATUS=serving\n").
// Parsing only; NotifySocket does the I/O.
//
//   NotifyMessage m = parse_notify_message("READY=1\nSTATUS=up");
//   m.ready == true; *m.status == "up"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace greenfork::arbiter {

struct NotifyMessage {
  bool ready = false;      // READY=1
  bool watchdog = false;   // WATCHDOG=1
  bool stopping = false;   // STOPPING=1
  bool reloading = false;  // RELOADING=1
  std::optional<std::string> status;  // STATUS=...
  bool empty() const { return !ready && !watchdog && !stopping && !reloading && !status; }
};

// Unknown assignments are ignored, as systemd does.
NotifyMessage parse_notify_message(std::string_view datagram);

}  // namespace greenfork::arbiter
