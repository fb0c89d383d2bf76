// The sockets a process was handed by systemd's socket-activation protocol
// (sd_listen_fds(3)), which arbiterd also speaks to its workers:
// LISTEN_PID=<the receiver's pid>, LISTEN_FDS=<n> (fds 3 .. 3+n-1),
// LISTEN_FDNAMES=a:b (optional). The one reader of these variables.
//
//   StatusOr<ListenFds> fds = read_listen_fds(getpid());
//   if (!fds.ok()) ...                              // malformed: refuse to start
//   if (fds->kind == ListenFds::kOurs) use fds 3 .. 3 + fds->count - 1
//
// Numbers are strict decimals: "3abc", "+3", " 3", "" and "0" are errors,
// as are more than kMaxListenFds sockets.
#pragma once

#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork {

inline constexpr int kMaxListenFds = 4096;

struct ListenFds {
  enum Kind {
    kNone,          // LISTEN_FDS is not set
    kOtherProcess,  // set, but LISTEN_PID is unset or names another process: ignore
    kOurs,
  };
  Kind kind = kNone;
  int count = 0;
  std::vector<std::string> names;  // LISTEN_FDNAMES split at ':'; may be shorter than count
};

// From the variables' values (nullptr = unset), for the process `self_pid`.
StatusOr<ListenFds> parse_listen_fds(const char* fds, const char* pid, const char* names,
                                     long self_pid);
// From the environment.
StatusOr<ListenFds> read_listen_fds(long self_pid);

}  // namespace greenfork
