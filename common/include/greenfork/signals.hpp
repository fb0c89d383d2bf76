// Signal names both ways, for logs ("killed by SIGKILL"), gctl and the
// Signal RPC ("HUP", "SIGHUP", "hup" and "1" are all SIGHUP).
#pragma once

#include <optional>
#include <string>

namespace greenfork {

// "SIGTERM" for 15; "signal 42" for numbers without a name.
std::string signal_name(int signo);
// Accepts "TERM", "SIGTERM", "term", "15". nullopt if unknown.
std::optional<int> parse_signal(const std::string& text);

// What a waitpid() status means, for humans: "exit 0", "exit 4 (app failed to
// load)", "killed by SIGKILL (perhaps out of memory?)", "killed by SIGSEGV
// (core dumped)".
std::string describe_wait_status(int wait_status);

}  // namespace greenfork
