// The listening sockets arbiterd owns for its whole life and hands to every
// worker as fds 3, 4, ... (DESIGN.md, "The worker contract").
//
//   auto set = ListenerSet::open({"127.0.0.1:8000", "unix:/run/app.sock"}, 2048, 0);
//   if (!set.ok()) { log(set.status().message()); return 1; }  // "bind 127.0.0.1:80: ..."
//   for (const auto& l : set->all()) pass_to_worker(l.fd, l.fd_name);
//   ...
//   set->close_all(/*unlink_unix_files=*/true);   // graceful stop
//
// Where a socket comes from, in this order of preference:
//  1. binary upgrade: GREENFORK_UPGRADE_FDS="SPEC=FD;SPEC=FD" from the old
//     master (contract::kUpgradeFds), matched by canonical spec;
//  2. systemd socket activation: LISTEN_FDS/LISTEN_PID (== getpid()),
//     matched by LISTEN_FDNAMES (the spec or its fd_name) or by the address
//     the socket is bound to (getsockname);
//  3. `fd://N`: fd N itself, which must be a listening socket;
//  4. otherwise bind_listener().
// Afterwards the upgrade and systemd variables are removed from the
// environment and inherited fds no spec asked for are closed. Every fd the
// set holds is FD_CLOEXEC: only the spawner's explicit dup2 to 3.. passes it.
//
// Identical specs (after canonicalisation: "tcp://127.0.0.1:8000" is
// "127.0.0.1:8000") are opened once and shared.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "greenfork/listen_address.hpp"
#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter {

class ListenerSet {
 public:
  struct Listener {
    std::string spec;     // canonical: ListenAddress::to_string() of the spec
    std::string fd_name;  // LISTEN_FDNAMES entry (systemd's name if adopted from it)
    UniqueFd socket;
    std::string unix_path;  // non-empty when this process owns the socket file
    ListenAddress address;  // what the socket is bound to (kTcp or kUnix)
    int fd() const { return socket.get(); }
  };

  // reuse_port: SO_REUSEPORT on the TCP sockets it binds (--reuse-port).
  static StatusOr<ListenerSet> open(const std::vector<std::string>& specs, int backlog,
                                    mode_t socket_umask, bool reuse_port = false);

  ListenerSet() = default;
  ListenerSet(ListenerSet&& other) noexcept;
  ListenerSet& operator=(ListenerSet&& other) noexcept;
  ListenerSet(const ListenerSet&) = delete;
  ListenerSet& operator=(const ListenerSet&) = delete;
  // Closes the fds; removes socket files only after remove_files_when_destroyed()
  // (or close_all(true)).
  ~ListenerSet();
  // arbiterd's error paths: whatever returns, the files it bound go too.
  void remove_files_when_destroyed() { remove_files_when_destroyed_ = true; }

  // In the order the specs were first given.
  const std::vector<Listener>& all() const { return listeners_; }
  // By spec as the user wrote it or canonical; nullptr if not in the set.
  const Listener* find(const std::string& spec) const;

  // Reload (HUP): binds the specs not yet in the set, keeps the others open
  // (no connection is refused during a reload). On error nothing changes.
  Status add(const std::vector<std::string>& specs, int backlog, mode_t socket_umask);
  // Closes the listeners whose spec is not in `keep`.
  void close_except(const std::vector<std::string>& keep, bool unlink_unix_files);

  // Value for contract::kUpgradeFds when re-executing arbiterd (the caller
  // clears FD_CLOEXEC on these fds in the child before exec).
  std::string upgrade_env_value() const;

  void close_all(bool unlink_unix_files);

 private:
  std::vector<Listener> listeners_;
  bool remove_files_when_destroyed_ = false;
};

// Listening sockets systemd passed to this process (LISTEN_PID == getpid()),
// as "fd://N" specs; empty otherwise. Does not change the environment. The
// config loader uses it: a pool without binds under socket activation gets
// all of them (Gunicorn's behaviour).
std::vector<std::string> systemd_listen_specs();

}  // namespace greenfork::arbiter
