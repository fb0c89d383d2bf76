// One Worker.Heartbeat call (greenfork.proto, service Worker).
//
// Beats are read one at a time: the next read starts only after the loop
// handled the previous beat, so a chatty worker cannot pile up closures.
// The first beat authenticates (ControlTarget::worker_beat with first=true)
// and means READY; once it is accepted the server sends initial metadata
// `greenfork-accepted: 1`, which is how a client learns READY was taken.
// A refused first beat ends the stream with the target's status
// (UNAUTHENTICATED, PERMISSION_DENIED, ...). WorkerCommands from the
// arbiter are queued (thread-safe, bounded) and written in order.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/support/server_callback.h>

#include "bearer_check.hpp"
#include "call_registry.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/v1/greenfork.grpc.pb.h"
#include "queued_stream_writer.hpp"

namespace greenfork::arbiter {

inline constexpr const char* kHeartbeatAcceptedKey = "greenfork-accepted";

class WorkerBeatReactor final : public grpc::ServerBidiReactor<v1::Beat, v1::WorkerCommand>,
                              public OpenCall,
                              public std::enable_shared_from_this<WorkerBeatReactor> {
 public:
  static constexpr std::size_t kMaxQueuedCommands = 64;

  static WorkerBeatReactor* begin(ControlTarget& target, LoopExecutor& executor,
                                const std::shared_ptr<CallRegistry>& registry,
                                const BearerCheck& auth, grpc::CallbackServerContext& context);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override { commands_.write_done(ok); }
  void OnCancel() override;
  void OnDone() override;
  void abort_for_shutdown() override;

 private:
  WorkerBeatReactor(ControlTarget& target, LoopExecutor& executor,
                  std::shared_ptr<CallRegistry> registry, grpc::CallbackServerContext& context);

  void handle_beat(HeartbeatReport report);  // loop thread
  void send_command(WorkerCommandKind kind);  // any thread

  ControlTarget& target_;
  LoopExecutor& executor_;
  std::shared_ptr<CallRegistry> registry_;
  grpc::CallbackServerContext& context_;  // valid until OnDone
  std::shared_ptr<WorkerBeatReactor> self_;  // gRPC's reference, dropped in OnDone
  v1::Beat incoming_;  // owned by the read in progress

  // Loop thread only: who this stream speaks for, once authenticated.
  std::optional<unsigned> slot_;
  std::string token_;

  QueuedStreamWriter<v1::WorkerCommand> commands_{
      [this](const v1::WorkerCommand* c) { StartWrite(c); },
      [this](const grpc::Status& s) { Finish(s); }};
};

// greenfork.v1.Worker, served next to Control.
class WorkerService final : public v1::Worker::CallbackService {
 public:
  WorkerService(ControlTarget& target, LoopExecutor& executor,
                std::shared_ptr<CallRegistry> registry, BearerCheck auth)
      : target_(target), executor_(executor), registry_(std::move(registry)),
        auth_(std::move(auth)) {}

  grpc::ServerBidiReactor<v1::Beat, v1::WorkerCommand>* Heartbeat(
      grpc::CallbackServerContext* context) override {
    return WorkerBeatReactor::begin(target_, executor_, registry_, auth_, *context);
  }

 private:
  ControlTarget& target_;
  LoopExecutor& executor_;
  std::shared_ptr<CallRegistry> registry_;
  BearerCheck auth_;
};

}  // namespace greenfork::arbiter
