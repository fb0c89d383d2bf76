// Readiness and liveness towards the supervisor: sd_notify when
// NOTIFY_SOCKET is set (arbiterd always sets it; systemd does for a
// Type=notify service), else nothing. ready() is sent after the app has
// loaded; beat() runs on the I/O loop, so a stuck loop stops the beats, and
// carries the counters gctl status shows (contract.hpp, kNotify*).
//
// gworker does not use arbiterd's gRPC heartbeat: the notify socket carries
// the same READY, beats and counters, and leaving gRPC out of the process
// keeps about 9 MiB of libraries out of every worker's memory.
#pragma once

#include <memory>

#include "engine/server.hpp"
#include "greenfork/status.hpp"

namespace greenfork::worker {

class Readiness {
 public:
  static std::unique_ptr<Readiness> create();
  virtual ~Readiness() = default;
  virtual Status ready() = 0;
  virtual void beat(const EngineStats& stats) = 0;
  virtual void stopping() = 0;
  // "sd_notify", "none": for the boot log line.
  virtual const char* kind() const = 0;
};

}  // namespace greenfork::worker
