// What the metrics address serves (routes of MetricsServer):
//   GET /metrics   Prometheus text 0.0.4, or OpenMetrics 1.0 by Accept
//   GET /healthz   200 "ok": the master's loop answered
//   GET /readyz    200 when every pool has a READY worker and none failed;
//                  503 with the reason otherwise
//   GET /          the status page (status_page.hpp)
// Read-only: nothing here changes the supervisor. Loop thread only.
//
//   MetricsEndpoint endpoint(supervisor, events);  // events: the last 50
//   HttpResponse r = endpoint.handle(head);
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/metrics/http_request.hpp"

namespace greenfork::arbiter {

// The last `capacity` events of the watch feed, for the status page.
class RecentEvents {
 public:
  explicit RecentEvents(size_t capacity = 50) : capacity_(capacity) {}
  void add(const SupervisorEvent& e) {
    events_.push_back(e);
    while (events_.size() > capacity_) events_.pop_front();
  }
  const std::deque<SupervisorEvent>& events() const { return events_; }

 private:
  size_t capacity_;
  std::deque<SupervisorEvent> events_;
};

// Why arbiterd is not ready ("pool api: failed: ..."), nullopt when it is.
std::optional<std::string> not_ready_reason(const ArbiterSnapshot& s);

class MetricsEndpoint {
 public:
  MetricsEndpoint(const ControlTarget& target, const RecentEvents& events) : target_(target), events_(events) {}
  HttpResponse handle(const HttpRequestHead& head) const;

 private:
  const ControlTarget& target_;
  const RecentEvents& events_;
};

}  // namespace greenfork::arbiter
