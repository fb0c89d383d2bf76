#include "greenfork/arbiter/exit_decision.hpp"

#include <sys/wait.h>

#include "greenfork/contract.hpp"

namespace greenfork::arbiter {
namespace {

// Exit codes of a worker that cannot start, whatever it is run with again:
// 2 bad command-line arguments (the usual usage-error code), 3 boot error,
// 4 application load error.
constexpr int kExitBadArguments = 2;

bool is_boot_failure(int wait_status) {
  if (!WIFEXITED(wait_status)) return false;
  int code = WEXITSTATUS(wait_status);
  return code == kExitBadArguments || code == contract::kExitBootError ||
         code == contract::kExitAppLoadError;
}

}  // namespace

ExitAction decide_exit(int wait_status, WorkerState state, bool reload_new) {
  if (state == WorkerState::kDraining || state == WorkerState::kStopping) return ExitAction::kExpected;
  bool never_ready = state == WorkerState::kStarting;
  if (reload_new && (never_ready || is_boot_failure(wait_status))) return ExitAction::kRollback;
  // Only before READY: a worker that served and then exits 3 is respawned.
  if (never_ready && is_boot_failure(wait_status)) return ExitAction::kFailPool;
  return ExitAction::kRespawn;
}

}  // namespace greenfork::arbiter
