// What the supervisor tells `gctl watch` and other subscribers: worker
// spawned/ready/exited/timed out, pool scaled/reloaded/failed, arbiterd
// stopping or upgrading. Loop thread only.
//
//   EventFeed events;
//   uint64_t id = events.subscribe([](const SupervisorEvent& e) { ... });
//   events.publish(SupervisorEvent::Kind::kWorkerReady, "web", 1, pid, "");
//   events.unsubscribe(id);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "greenfork/arbiter/control_target.hpp"

namespace greenfork::arbiter {

class EventFeed {
 public:
  using Listener = std::function<void(const SupervisorEvent&)>;

  uint64_t subscribe(Listener listener);
  void unsubscribe(uint64_t id) { listeners_.erase(id); }
  // Stamps the event with the wall-clock time and hands it to every
  // listener (one may unsubscribe itself or another while it runs).
  void publish(SupervisorEvent::Kind kind, const std::string& pool, unsigned slot, pid_t pid,
               const std::string& detail, const std::string& reason = "");

 private:
  std::map<uint64_t, Listener> listeners_;
  uint64_t next_id_ = 1;
};

}  // namespace greenfork::arbiter
