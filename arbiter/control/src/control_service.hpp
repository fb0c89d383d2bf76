// greenfork.v1.Control: each RPC becomes a closure posted to the
// supervisor's loop, and the reply is sent from the ControlTarget's
// completion. Nothing here reads supervisor state on a gRPC thread.
#pragma once

#include <memory>

#include "bearer_check.hpp"
#include "call_registry.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/v1/greenfork.grpc.pb.h"

namespace greenfork::arbiter {

class ControlService final : public v1::Control::CallbackService {
 public:
  ControlService(ControlTarget& target, LoopExecutor& executor,
                 std::shared_ptr<CallRegistry> registry, BearerCheck auth)
      : target_(target), executor_(executor), registry_(std::move(registry)),
        auth_(std::move(auth)) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const v1::StatusRequest* request,
                                   v1::StatusReply* reply) override;
  grpc::ServerUnaryReactor* Scale(grpc::CallbackServerContext* context,
                                  const v1::ScaleRequest* request,
                                  v1::ScaleReply* reply) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadReply* reply) override;
  grpc::ServerUnaryReactor* Stop(grpc::CallbackServerContext* context,
                                 const v1::StopRequest* request,
                                 v1::StopReply* reply) override;
  grpc::ServerUnaryReactor* ReopenLogs(grpc::CallbackServerContext* context,
                                       const v1::ReopenLogsRequest* request,
                                       v1::ReopenLogsReply* reply) override;
  grpc::ServerUnaryReactor* Signal(grpc::CallbackServerContext* context,
                                   const v1::SignalRequest* request,
                                   v1::SignalReply* reply) override;
  grpc::ServerUnaryReactor* Upgrade(grpc::CallbackServerContext* context,
                                    const v1::UpgradeRequest* request,
                                    v1::UpgradeReply* reply) override;
  grpc::ServerWriteReactor<v1::Event>* Watch(grpc::CallbackServerContext* context,
                                             const v1::WatchRequest* request) override;

 private:
  ControlTarget& target_;
  LoopExecutor& executor_;
  std::shared_ptr<CallRegistry> registry_;
  BearerCheck auth_;
};

}  // namespace greenfork::arbiter
