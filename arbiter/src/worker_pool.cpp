#include "greenfork/arbiter/worker_pool.hpp"

#include <algorithm>

namespace greenfork::arbiter {

Worker* WorkerPool::find_pid(pid_t pid) {
  for (auto& w : workers) {
    if (w->pid == pid) return w.get();
  }
  return nullptr;
}

Worker* WorkerPool::find_slot(unsigned slot) {
  for (auto& w : workers) {
    if (w->slot == slot) return w.get();
  }
  return nullptr;
}

std::unique_ptr<Worker> WorkerPool::remove(pid_t pid) {
  auto it = std::find_if(workers.begin(), workers.end(), [pid](auto& w) { return w->pid == pid; });
  if (it == workers.end()) return nullptr;
  std::unique_ptr<Worker> w = std::move(*it);
  workers.erase(it);
  return w;
}

Backoff& WorkerPool::backoff_of(unsigned slot) {
  return slot_backoff.try_emplace(slot, config.backoff).first->second;
}

std::vector<WorkerView> WorkerPool::views() const {
  std::vector<WorkerView> v;
  for (const auto& w : workers) v.push_back({w->slot, w->state, w->live.started_at, w->generation});
  return v;
}

std::vector<WorkerView> WorkerPool::kept_views() const {
  std::vector<WorkerView> v;
  for (const auto& w : workers) {
    if (w->restart_reason.empty()) v.push_back({w->slot, w->state, w->live.started_at, w->generation});
  }
  return v;
}

unsigned WorkerPool::active_count() const {
  return static_cast<unsigned>(
      std::count_if(workers.begin(), workers.end(), [](auto& w) { return is_active(w->state); }));
}

unsigned WorkerPool::ready_count() const {
  return static_cast<unsigned>(std::count_if(
      workers.begin(), workers.end(), [](auto& w) { return w->state == WorkerState::kReady; }));
}

}  // namespace greenfork::arbiter
