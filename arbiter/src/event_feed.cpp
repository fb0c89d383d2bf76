#include "greenfork/arbiter/event_feed.hpp"

#include <ctime>

namespace greenfork::arbiter {
namespace {

double unix_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

uint64_t EventFeed::subscribe(Listener listener) {
  uint64_t id = next_id_++;
  listeners_[id] = std::move(listener);
  return id;
}

void EventFeed::publish(SupervisorEvent::Kind kind, const std::string& pool, unsigned slot, pid_t pid,
                        const std::string& detail, const std::string& reason) {
  SupervisorEvent e;
  e.kind = kind;
  e.unix_time = unix_now();
  e.pool = pool;
  e.slot = slot;
  e.pid = pid;
  e.detail = detail;
  e.reason = reason;
  auto copy = listeners_;
  for (auto& [id, fn] : copy) {
    if (listeners_.count(id) != 0) fn(e);
  }
}

}  // namespace greenfork::arbiter
