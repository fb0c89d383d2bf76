#include "greenfork/arbiter/rollout_plans.hpp"

#include <algorithm>

namespace greenfork::arbiter {
namespace {

std::vector<WorkerView> oldest_first(std::vector<WorkerView> v) {
  std::stable_sort(v.begin(), v.end(), [](const WorkerView& a, const WorkerView& b) {
    return a.started_at < b.started_at;
  });
  return v;
}

}  // namespace

ScalePlan plan_scale(unsigned desired, const std::vector<WorkerView>& workers) {
  ScalePlan plan;
  std::vector<WorkerView> active;
  for (const auto& w : workers) {
    if (is_active(w.state)) active.push_back(w);
  }
  if (active.size() < desired) {
    plan.spawn = desired - static_cast<unsigned>(active.size());
  } else if (active.size() > desired) {
    auto sorted = oldest_first(active);
    for (size_t i = 0; i < active.size() - desired; ++i) plan.stop.push_back(sorted[i].slot);
  }
  return plan;
}

ReloadPlan plan_reload(unsigned desired, unsigned max_surge, unsigned max_unavailable,
                       unsigned new_generation, const std::vector<WorkerView>& workers) {
  if (max_surge == 0 && max_unavailable == 0) max_surge = 1;
  ReloadPlan plan;
  std::vector<WorkerView> old_ready;
  unsigned old_active = 0, new_active = 0, new_ready = 0;
  for (const auto& w : oldest_first(workers)) {
    if (!is_active(w.state)) continue;
    bool ready = w.state == WorkerState::kReady;
    if (w.generation == new_generation) {
      ++new_active;
      if (ready) ++new_ready;
    } else if (ready) {
      ++old_active;
      old_ready.push_back(w);
    } else {
      plan.stop.push_back(w.slot);  // an old worker still booting serves nobody
    }
  }
  if (old_active == 0 && new_ready >= desired && new_active == new_ready) {
    plan.done = true;
    return plan;
  }
  // Stop old workers while enough READY ones remain.
  unsigned available = static_cast<unsigned>(old_ready.size()) + new_ready;
  unsigned min_available = desired > max_unavailable ? desired - max_unavailable : 0;
  unsigned can_stop = available > min_available ? available - min_available : 0;
  unsigned stop_n = std::min(can_stop, old_active);
  for (unsigned i = 0; i < stop_n; ++i) plan.stop.push_back(old_ready[i].slot);
  unsigned old_after = old_active - stop_n;
  // Start new ones within the surge budget.
  unsigned need_new = desired > new_active ? desired - new_active : 0;
  unsigned total = old_after + new_active;
  unsigned cap = desired + max_surge;
  unsigned room = cap > total ? cap - total : 0;
  plan.spawn = std::min(need_new, room);
  return plan;
}

RespawnPlan plan_respawn(unsigned missing, std::vector<HeldSlot> held, MonoTime now) {
  std::stable_sort(held.begin(), held.end(), [](const HeldSlot& a, const HeldSlot& b) {
    return a.respawn_at < b.respawn_at;
  });
  RespawnPlan plan;
  while (held.size() > missing) {  // the ones that would wait longest go
    plan.release.push_back(held.back().slot);
    held.pop_back();
  }
  for (const HeldSlot& h : held) {
    if (h.respawn_at <= now) plan.into_held.push_back(h.slot);
  }
  plan.fresh = missing - static_cast<unsigned>(held.size());
  return plan;
}

}  // namespace greenfork::arbiter
