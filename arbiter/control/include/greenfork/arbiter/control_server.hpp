// arbiterd's gRPC control socket: the Control and Worker services of
// proto/greenfork/v1/greenfork.proto, served on a unix socket (mode 0600)
// and optionally on TCP (bearer token required).
//
// gRPC threads never touch supervisor state: every RPC posts a closure to
// the LoopExecutor, the closure calls ControlTarget on the loop thread, and
// the reply is sent from the completion.
//
//   ControlServerOptions opts{.unix_path = default_control_socket()};
//   auto server = ControlServer::start(opts, arbiter, loop);
//   if (!server.ok()) return fail(server.status());
//   ...
//   (*server)->shutdown();  // before the loop stops running closures
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

struct ControlServerOptions {
  // Unix socket path. A stale file is replaced; a live arbiterd listening
  // there is an error ("control socket /x: another arbiterd is listening").
  std::string unix_path;
  // Binary upgrade: the old master is still listening on unix_path. Bind a
  // temporary path next to it and rename() it over unix_path atomically.
  bool takeover = false;
  // Optional "HOST:PORT" for remote control; requires a non-empty token.
  std::string tcp_bind;
  // Bearer token ("authorization: Bearer <token>") checked on every TCP call.
  std::string token;
  // The TCP address accepts at most this many connections at once (more are
  // closed at once), none while fewer than fd_reserve descriptors are left,
  // and closes a connection that had no call for tcp_idle_timeout.
  std::size_t tcp_max_connections = 64;
  std::size_t fd_reserve = 64;
  std::chrono::milliseconds tcp_idle_timeout{30000};
  // The unix socket (same user only, workers' heartbeats) may use all but
  // the last few descriptors.
  std::size_t unix_max_connections = 4096;
  std::size_t unix_fd_reserve = 8;
};

class ControlServer {
 public:
  // Starts serving at once. The target and the executor must outlive the
  // server (until shutdown() returned).
  static StatusOr<std::unique_ptr<ControlServer>> start(const ControlServerOptions& options,
                                                        ControlTarget& target,
                                                        LoopExecutor& executor);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Cancels open streams (Watch, Heartbeat), stops accepting calls and
  // removes the unix socket file if it is still ours. Idempotent. Must not
  // be called from the loop thread while that thread is needed to complete
  // pending calls: pending calls get UNAVAILABLE instead of waiting.
  void shutdown();

  // Where the server listens: the unix path, and the TCP port actually bound
  // (useful with "127.0.0.1:0"); 0 without TCP.
  const std::string& unix_path() const;
  int tcp_port() const;

  class Impl;

 private:
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace greenfork::arbiter
