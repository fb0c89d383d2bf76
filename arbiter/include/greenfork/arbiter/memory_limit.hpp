// max_worker_memory (PM2's max_memory_restart, uWSGI's reload-on-rss): which
// workers to replace because their RSS passed the limit, and which of the
// workers being replaced may get TERM now. Pure functions of the workers
// (no I/O: unit-tested with plain data); PoolManager acts on them.
//
//   MemoryPlan p = plan_memory_restarts(512 << 20, desired, views);
//   p.replace: READY workers just found over the limit (start a successor each)
//   p.stop:    workers being replaced whose successors are READY (TERM them)
//
// A worker being replaced keeps serving until enough others are READY
// without it (at least `desired`), so a replacement never lowers capacity.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

struct MemoryView {
  unsigned slot = 0;
  WorkerState state = WorkerState::kStarting;
  MonoTime started_at{};
  uint64_t rss_bytes = 0;  // 0: unknown
  bool replacing = false;  // already being replaced
};

struct MemoryPlan {
  std::vector<unsigned> replace;  // slots newly over the limit
  std::vector<unsigned> stop;     // slots being replaced to TERM now, oldest first
};

// limit 0: nothing is replaced (workers already being replaced still stop).
MemoryPlan plan_memory_restarts(uint64_t limit, unsigned desired, const std::vector<MemoryView>& workers);

// "612.4 MiB"
std::string describe_bytes(uint64_t bytes);

}  // namespace greenfork::arbiter
