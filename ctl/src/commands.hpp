// One gctl command against arbiterd: the RPC, its output, its exit status.
#pragma once

#include <string>

#include "greenfork/ctl/arguments.hpp"
#include "greenfork/control_address.hpp"

namespace greenfork::ctl {

inline constexpr int kExitFailed = 1;       // arbiterd refused or failed the command
inline constexpr int kExitUnreachable = 3;  // nothing answered at the address

int run_command(const Invocation& inv, const ControlAddress& address, const std::string& token);

// SIGINT/SIGTERM blocked in the calling (main) thread and every thread it
// starts afterwards; `watch` waits for them with sigwait().
void block_stop_signals();

}  // namespace greenfork::ctl
