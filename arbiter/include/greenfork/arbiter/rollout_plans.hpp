// Which workers to start and stop: scaling to a count, one step of a
// rolling reload, respawning crashed workers under back-off. Pure
// functions of a pool's workers (no I/O: unit-tested with plain data).
//
//   ScalePlan p = plan_scale(desired, views);    // spawn 2, stop slots {4}
//   ReloadPlan r = plan_reload(desired, 1, 0, new_generation, views);
//   RespawnPlan s = plan_respawn(missing, held_slots, now);
#pragma once

#include <vector>

#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

struct WorkerView {
  unsigned slot = 0;
  WorkerState state = WorkerState::kStarting;
  MonoTime started_at{};
  unsigned generation = 0;
};

// Active = starting or ready (draining and stopping workers are on their way out).
inline bool is_active(WorkerState s) { return s == WorkerState::kStarting || s == WorkerState::kReady; }

struct ScalePlan {
  unsigned spawn = 0;
  std::vector<unsigned> stop;  // slots to stop gracefully, oldest first
};

// Brings the active count to `desired`: spawn the missing ones, stop the
// oldest extra ones (Gunicorn's TTOU).
ScalePlan plan_scale(unsigned desired, const std::vector<WorkerView>& workers);

struct ReloadPlan {
  unsigned spawn = 0;          // new-generation workers to start now
  std::vector<unsigned> stop;  // old workers to stop gracefully now
  bool done = false;           // only new-generation workers, all READY
};

// One step of a rolling restart towards `new_generation`: at most
// desired + max_surge active workers, at least desired - max_unavailable
// READY ones (old or new). Old workers not yet READY are stopped at once.
// max_surge = max_unavailable = 0 is treated as max_surge = 1.
ReloadPlan plan_reload(unsigned desired, unsigned max_surge, unsigned max_unavailable,
                       unsigned new_generation, const std::vector<WorkerView>& workers);

// A crashed worker's slot, kept for its replacement until respawn_at (its
// back-off), so that the slot's crash history stays with it.
struct HeldSlot {
  unsigned slot = 0;
  MonoTime respawn_at{};
};

struct RespawnPlan {
  std::vector<unsigned> into_held;  // held slots whose back-off is over: spawn in them now
  unsigned fresh = 0;               // workers to spawn now in new slots
  std::vector<unsigned> release;    // held slots no longer needed (scaled down)
};

// How `missing` workers (desired minus active) are started at `now`: a held
// slot waits for its own back-off, every other missing worker starts at
// once, so one slot's crash loop never holds back the others.
RespawnPlan plan_respawn(unsigned missing, std::vector<HeldSlot> held, MonoTime now);

}  // namespace greenfork::arbiter
