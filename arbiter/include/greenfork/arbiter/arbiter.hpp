// arbiterd's supervisor: Gunicorn's Arbiter for any executable.
//
// Owns every pool and worker; runs on one thread (the asio::io_context
// passed in) and is the ControlTarget the gRPC control service posts to.
// Arbiter is the Supervisor (supervisor.hpp), which implements the control
// interface itself; this header adds the loop executor the control service
// posts through.
//
//   asio::io_context io;
//   auto ops = make_posix_process_ops();
//   ArbiterOptions opts;               // config + the listeners main opened
//   opts.config = config;
//   opts.sockets = {PoolSockets{{fd}, {"http"}, {"127.0.0.1:8000"}}};
//   Arbiter arbiter(io, *ops, std::move(opts));
//   ArbiterExit exit = arbiter.run();  // returns after TERM/INT/QUIT or a halt
//   listeners.close_all(/*unlink_unix_files=*/!exit.handed_over);
//   return exit.code;
#pragma once

#include <functional>

#include "greenfork/arbiter/arbiter_options.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/supervisor.hpp"

namespace asio {
class io_context;
}

namespace greenfork::arbiter {

using Arbiter = Supervisor;

// LoopExecutor on an io_context (asio::post).
class AsioLoopExecutor final : public LoopExecutor {
 public:
  explicit AsioLoopExecutor(asio::io_context& io) : io_(io) {}
  void post(std::function<void()> fn) override;

 private:
  asio::io_context& io_;
};

}  // namespace greenfork::arbiter
