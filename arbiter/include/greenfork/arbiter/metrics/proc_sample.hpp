// What the kernel knows and the beats do not: a process's CPU time
// (/proc/PID/stat) and a listening socket's accept queue. Read when a
// snapshot is taken (a scrape, gctl status), never on a timer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace greenfork::arbiter {

// utime + stime of `pid` in seconds; nullopt when it cannot be read.
std::optional<double> process_cpu_seconds(pid_t pid);
// The same from the text of /proc/PID/stat (the command may hold spaces
// and parentheses: fields are counted after the last ')').
std::optional<double> parse_cpu_seconds(std::string_view stat, long ticks_per_second);

// Connections completed by the kernel and not yet accepted on the
// listening TCP socket `fd` (TCP_INFO's tcpi_unacked of a LISTEN socket);
// nullopt for other sockets.
std::optional<uint64_t> tcp_accept_queue(int fd);

}  // namespace greenfork::arbiter
