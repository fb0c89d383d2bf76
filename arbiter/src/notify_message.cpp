#include "greenfork/arbiter/notify_message.hpp"

#include <charconv>
#include <cmath>
#include <type_traits>

#include "greenfork/contract.hpp"

namespace greenfork::arbiter {

namespace {

template <typename T>
std::optional<T> number(std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v) || v < 0) return std::nullopt;
  }
  return v;
}

}  // namespace

NotifyMessage parse_notify_message(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    size_t nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view{} : datagram.substr(nl + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (name == "READY") m.ready = m.ready || value == "1";
    else if (name == "WATCHDOG") m.watchdog = m.watchdog || value == "1";
    else if (name == "STOPPING") m.stopping = m.stopping || value == "1";
    else if (name == "RELOADING") m.reloading = m.reloading || value == "1";
    else if (name == "STATUS") m.status = std::string(value);
    else if (name == contract::kNotifyRequestsServed) m.requests_served = number<uint64_t>(value);
    else if (name == contract::kNotifyRequestsInFlight) m.requests_in_flight = number<uint32_t>(value);
    else if (name == contract::kNotifyOldestRequestAge) m.oldest_request_age = number<double>(value);
    else if (name == contract::kNotifyConnections) m.connections = number<uint32_t>(value);
    else if (name == contract::kNotifyRequestsByClass) m.requests_by_class = RequestCounters::parse_classes(value);
    else if (name == contract::kNotifyDurationBuckets) m.duration_buckets = RequestCounters::parse_buckets(value);
    else if (name == contract::kNotifyDurationSum) m.duration_sum = number<double>(value);
    else if (name == contract::kNotifyRequestSeconds) m.request_seconds = number<double>(value);
  }
  return m;
}

}  // namespace greenfork::arbiter
