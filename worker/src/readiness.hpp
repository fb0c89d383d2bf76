// Readiness and liveness towards the supervisor, one way or the other:
// gRPC (H3's HeartbeatClient, when ARBITER_SOCKET is set and gworker was
// built with it), else sd_notify when NOTIFY_SOCKET is set, else nothing.
// ready() is sent after the app has loaded; beat() runs on the I/O loop so
// a stuck loop stops the beats.
#pragma once

#include <functional>
#include <memory>

#include "engine/server.hpp"
#include "greenfork/status.hpp"

namespace greenfork::worker {

class Readiness {
 public:
  // Commands from arbiterd (gRPC only): graceful stop, reopen logs.
  struct Commands {
    std::function<void()> graceful_stop;
    std::function<void()> reopen_logs;
  };
  static StatusOr<std::unique_ptr<Readiness>> create(Commands commands);
  virtual ~Readiness() = default;
  virtual Status ready() = 0;
  virtual void beat(const EngineStats& stats) = 0;
  virtual void stopping() = 0;
  virtual void close() = 0;
  // "gRPC heartbeat", "sd_notify", "none": for the boot log line.
  virtual const char* kind() const = 0;
};

}  // namespace greenfork::worker
