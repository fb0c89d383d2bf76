// The accept loop of a control socket (the unix one and --control-bind),
// owned by arbiterd instead of gRPC.
//
// gRPC (1.51) stops listening for good the first time accept() fails with
// EMFILE, so a flood of connections to --control-bind used to wedge the
// control plane, the unix socket too. Here accept() never gives up (out of
// descriptors, it retries every 100 ms while the kernel queues); at most
// `max_connections` accepted connections are alive at once (more are closed
// as soon as they are accepted); and nothing is accepted while fewer than
// `fd_reserve` descriptors are left, so the unix control socket and worker
// spawning always have fds. Accepted connections are handed to gRPC
// (AddInsecureChannelFromFd), which owns and closes them; the acceptor
// notices a closed one by its fd no longer naming the same socket.
//
//   auto acceptor = ControlAcceptor::listen_tcp("127.0.0.1:7000", {});
//   (*acceptor)->start([&](int fd) { grpc::AddInsecureChannelFromFd(server, fd); });
//   ...
//   (*acceptor)->stop();  // before the gRPC server shuts down
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"
#include "rate_limited_log.hpp"

namespace greenfork::arbiter {

class ControlAcceptor {
 public:
  struct Limits {
    std::size_t max_connections = 64;
    std::size_t fd_reserve = 64;
  };

  // Binds and listens on HOST:PORT ("[::1]:0" picks a port).
  static StatusOr<std::unique_ptr<ControlAcceptor>> listen_tcp(const std::string& host_port, Limits limits);
  // Takes over a listening socket (e.g. the unix control socket); `name`
  // says which in log lines ("control socket /run/arbiterd.sock").
  static std::unique_ptr<ControlAcceptor> adopt(int listen_fd, std::string name, Limits limits);
  ~ControlAcceptor();
  ControlAcceptor(const ControlAcceptor&) = delete;
  ControlAcceptor& operator=(const ControlAcceptor&) = delete;

  int port() const { return port_; }  // TCP: the port bound; 0 for unix

  // Accepts on a thread of its own until stop(); hand_over owns each fd.
  void start(std::function<void(int fd)> hand_over);
  // Stops accepting, joins the thread and closes the listening socket.
  // Connections already handed over stay gRPC's. Idempotent.
  void stop();

  // "ADDR:PORT" of the client on a connection handed over as `fd`, or "" (for log lines).
  std::string peer_of(int fd) const;

 private:
  struct Accepted {
    dev_t dev;
    ino_t ino;
    std::string peer;
  };

  ControlAcceptor(int listen_fd, int wake_fd, int port, std::string name, Limits limits);
  void run();
  // Accepts what is queued; false when out of descriptors (try again later).
  bool accept_ready();
  // Forgets connections gRPC has closed; returns how many are still open.
  std::size_t prune_closed();

  UniqueFd listen_fd_;  // closed by stop()
  const UniqueFd wake_fd_;  // eventfd: stop() wakes the thread
  int port_;
  const std::string name_;
  const Limits limits_;
  std::function<void(int)> hand_over_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  mutable std::mutex mutex_;  // accepted_ (peer_of is called from gRPC threads)
  std::unordered_map<int, Accepted> accepted_;
  RateLimitedLog refusals_;
};

}  // namespace greenfork::arbiter
