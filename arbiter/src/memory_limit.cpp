#include "greenfork/arbiter/memory_limit.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace greenfork::arbiter {

MemoryPlan plan_memory_restarts(uint64_t limit, unsigned desired, const std::vector<MemoryView>& workers) {
  MemoryPlan plan;
  unsigned ready = 0;
  std::vector<const MemoryView*> replacing;
  for (const MemoryView& w : workers) {
    if (w.state == WorkerState::kReady) ++ready;
    if (w.replacing && (w.state == WorkerState::kReady || w.state == WorkerState::kStarting)) {
      replacing.push_back(&w);
    } else if (limit > 0 && w.state == WorkerState::kReady && !w.replacing && w.rss_bytes > limit) {
      plan.replace.push_back(w.slot);
    }
  }
  // TERM to as many replaced workers as leaves `desired` READY ones.
  std::sort(replacing.begin(), replacing.end(),
            [](const MemoryView* a, const MemoryView* b) { return a->started_at < b->started_at; });
  unsigned spare = ready > desired ? ready - desired : 0;
  for (const MemoryView* w : replacing) {
    if (w->state != WorkerState::kReady) {
      plan.stop.push_back(w->slot);  // not serving anyway
    } else if (spare > 0) {
      --spare;
      plan.stop.push_back(w->slot);
    }
  }
  return plan;
}

std::string describe_bytes(uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  if (mib >= 1024) return fmt::format("{:.2f} GiB", mib / 1024);
  return fmt::format("{:.1f} MiB", mib);
}

}  // namespace greenfork::arbiter
