// One gctl command against arbiterd: the RPC, its output, its exit status.
#pragma once

#include <string>

#include "greenfork/ctl/arguments.hpp"
#include "greenfork/control_address.hpp"
#include "greenfork/ctl/gctl.hpp"

namespace greenfork::ctl {

int run_command(const Invocation& inv, const ControlAddress& address, const std::string& token);

// SIGINT/SIGTERM blocked in the calling (main) thread and every thread it
// starts afterwards; `watch` waits for them with sigwait().
void block_stop_signals();

}  // namespace greenfork::ctl
