// sd_notify datagrams as workers send them ("READY=1\nSTATUS=serving\n").
// Parsing only; NotifySocket does the I/O.
//
//   NotifyMessage m = parse_notify_message("READY=1\nSTATUS=up");
//   m.ready == true; *m.status == "up"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "greenfork/request_counters.hpp"

namespace greenfork::arbiter {

struct NotifyMessage {
  bool ready = false;      // READY=1
  bool watchdog = false;   // WATCHDOG=1
  bool stopping = false;   // STOPPING=1
  bool reloading = false;  // RELOADING=1
  std::optional<std::string> status;  // STATUS=...
  // The worker's counters (contract.hpp, kNotify*), when it sends them.
  std::optional<uint64_t> requests_served;
  std::optional<uint32_t> requests_in_flight;
  std::optional<double> oldest_request_age;
  std::optional<uint32_t> connections;
  // The metrics fields: each applies only when present and well formed.
  std::optional<std::array<uint64_t, 5>> requests_by_class;
  std::optional<std::array<uint64_t, kDurationBounds.size() + 1>> duration_buckets;
  std::optional<double> duration_sum;
  std::optional<double> request_seconds;  // X_REQUEST_SECONDS
  bool empty() const {
    return !ready && !watchdog && !stopping && !reloading && !status && !requests_served &&
           !requests_in_flight && !oldest_request_age && !connections && !requests_by_class && !duration_buckets &&
           !duration_sum && !request_seconds;
  }
};

// Unknown assignments, and counters that are not numbers, are ignored, as
// systemd does.
NotifyMessage parse_notify_message(std::string_view datagram);

}  // namespace greenfork::arbiter
