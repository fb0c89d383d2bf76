// SIGINT/SIGTERM for gctl's long-running commands (watch, top): both are
// blocked in every thread (gctl.cpp), and one detached thread waits for
// them and runs `action` once.
#pragma once

namespace greenfork::ctl {

void on_interrupt(void (*action)());

}  // namespace greenfork::ctl
