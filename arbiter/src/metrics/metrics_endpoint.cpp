#include "greenfork/arbiter/metrics/metrics_endpoint.hpp"

#include "greenfork/arbiter/metrics/exposition.hpp"
#include "greenfork/arbiter/metrics/status_page.hpp"

namespace greenfork::arbiter {

std::optional<std::string> not_ready_reason(const ArbiterSnapshot& s) {
  if (s.pools.empty()) return "no pools";
  for (const auto& p : s.pools) {
    if (p.state == PoolState::kFailed) {
      return "pool " + p.name + ": failed" + (p.state_reason.empty() ? "" : ": " + p.state_reason);
    }
  }
  for (const auto& p : s.pools) {
    if (p.ready == 0) return "pool " + p.name + ": no READY worker";
  }
  return std::nullopt;
}

HttpResponse MetricsEndpoint::handle(const HttpRequestHead& head) const {
  if (head.path == "/metrics") {
    const ExpositionFormat f = negotiate_format(head.accept);
    return {200, content_type(f), render_metrics(target_.status(), f), ""};
  }
  if (head.path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n", ""};
  if (head.path == "/readyz") {
    if (auto why = not_ready_reason(target_.status())) return {503, "text/plain; charset=utf-8", *why + "\n", ""};
    return {200, "text/plain; charset=utf-8", "ready\n", ""};
  }
  if (head.path == "/") {
    return {200, "text/html; charset=utf-8", render_status_page(target_.status(), events_.events()), ""};
  }
  return {404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz, /readyz or /\n", ""};
}

}  // namespace greenfork::arbiter
