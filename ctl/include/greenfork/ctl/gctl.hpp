// gctl as a function, so that main.cpp stays thin: parses, connects, runs
// one command, prints, and returns the exit status (see usage_text()).
#pragma once

#include <string>
#include <vector>

namespace greenfork::ctl {

int run_gctl(const std::vector<std::string>& args);

}  // namespace greenfork::ctl
