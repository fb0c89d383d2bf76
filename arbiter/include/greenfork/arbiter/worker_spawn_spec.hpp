// How one worker is started: the pool's command found on PATH (the pool's
// own PATH first), its listening sockets as fds 3.., the worker contract's
// environment over arbiterd's own (minus the contract's variables), its
// directory, user and group (honoured when arbiterd is root).
//
//   WorkerSlot who{/*slot=*/3, token, notify_path, control_socket};
//   StatusOr<SpawnSpec> spec = worker_spawn_spec(pool_config, pool_sockets, who, environment);
//   if (spec.ok()) ops.spawn(*spec);   // else "unknown user 'www'" ...
#pragma once

#include <string>
#include <vector>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/process_ops.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

// What sets one worker apart and where it reaches arbiterd.
struct WorkerSlot {
  unsigned slot = 0;           // ARBITER_WORKER_ID
  std::string token;           // ARBITER_WORKER_TOKEN
  std::string notify_socket;   // NOTIFY_SOCKET
  std::string control_socket;  // ARBITER_SOCKET
};

// `environment`: arbiterd's own "K=V" list (environ).
StatusOr<SpawnSpec> worker_spawn_spec(const PoolConfig& config, const PoolSockets& sockets,
                                      const WorkerSlot& who, const std::vector<std::string>& environment);

}  // namespace greenfork::arbiter
