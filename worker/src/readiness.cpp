#include "readiness.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "greenfork/contract.hpp"
#include "greenfork/sd_notify.hpp"

namespace greenfork::worker {

namespace {

// The WATCHDOG=1 datagram for `s`, with the counters arbiterd reads.
std::string notify_beat(const EngineStats& s) {
  char age[32];
  std::snprintf(age, sizeof age, "%.3f", s.oldest_request_age_seconds);
  // STOPPING=1 as soon as the worker stops on its own (max requests, a
  // reload request): arbiterd then starts its replacement at once.
  return std::string("WATCHDOG=1\n") +
         (s.stopping ? "STOPPING=1\nSTATUS=stopping" : "STATUS=serving") + "\n" +
         contract::kNotifyRequestsServed + "=" + std::to_string(s.requests_served) + "\n" +
         contract::kNotifyRequestsInFlight + "=" + std::to_string(s.in_flight) + "\n" +
         contract::kNotifyOldestRequestAge + "=" + age + "\n" + contract::kNotifyConnections + "=" +
         std::to_string(s.connections) + "\n" + contract::kNotifyRequestSeconds + "=" +
         std::to_string(s.request_seconds) + "\n" + s.counters.notify_fields();
}

class NoReadiness final : public Readiness {
 public:
  Status ready() override { return {}; }
  void beat(const EngineStats&) override {}
  void stopping() override {}
  const char* kind() const override { return "none"; }
};

class NotifyReadiness final : public Readiness {
 public:
  Status ready() override { return sd_notify("READY=1\nSTATUS=serving"); }
  void beat(const EngineStats& s) override { (void)sd_notify(notify_beat(s)); }
  void stopping() override { (void)sd_notify("STOPPING=1\nSTATUS=stopping"); }
  const char* kind() const override { return "sd_notify"; }
};

}  // namespace

std::unique_ptr<Readiness> Readiness::create() {
  if (std::getenv(contract::kNotifySocket) != nullptr) return std::make_unique<NotifyReadiness>();
  return std::make_unique<NoReadiness>();
}

}  // namespace greenfork::worker
