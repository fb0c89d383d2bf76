// gctl as a function, so that main.cpp stays thin: parses, connects, runs
// one command, prints, and returns the exit status (see usage_text()).
#pragma once

#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::ctl {

int run_gctl(const std::vector<std::string>& args);

// gctl's exit status for arbiterd's answer: 0 when it succeeded, 3 when
// nothing answered (kUnavailable), 1 when arbiterd refused or failed it.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUnreachable = 3;
int exit_code_for(const Status& answer);

}  // namespace greenfork::ctl
