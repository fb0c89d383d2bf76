// What a worker's exit means: expected, respawn, fail the pool, or roll a
// reload back. A pure function of the wait status and the worker's state.
//
//   ExitAction a = decide_exit(status, WorkerState::kReady, /*reload_new=*/false);
#pragma once

#include "greenfork/arbiter/control_target.hpp"

namespace greenfork::arbiter {

enum class ExitAction {
  kExpected,  // we asked it to stop: nothing to decide
  kRespawn,   // crashed: start a replacement (with back-off)
  kFailPool,  // exit 2, 3 or 4 before READY: the pool is failed, never respawned
  kRollback,  // a new worker of a reload died before READY, or exited 2/3/4
};

// `reload_new` is true for a worker of the generation a reload is rolling to.
ExitAction decide_exit(int wait_status, WorkerState state, bool reload_new);

}  // namespace greenfork::arbiter
