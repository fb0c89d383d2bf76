#include "control_service.hpp"

#include <limits>

#include "proto_convert.hpp"
#include "unary_call.hpp"
#include "watch_stream.hpp"

namespace greenfork::arbiter {

// Every closure captures the target by reference (it outlives the server)
// and the call by shared_ptr, never the service: a closure may run after
// the server shut down, and then only finds the call finished.

grpc::ServerUnaryReactor* ControlService::Status(grpc::CallbackServerContext* context,
                                                 const v1::StatusRequest* /*request*/,
                                                 v1::StatusReply* reply) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call, reply] {
    if (call->finished()) return;
    ArbiterSnapshot snapshot = target.status();
    call->finish(grpc::Status::OK, [&] { fill_status_reply(snapshot, reply); });
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::Scale(grpc::CallbackServerContext* context,
                                                const v1::ScaleRequest* request,
                                                v1::ScaleReply* reply) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  ScaleCommand command;
  command.pool = request->pool();
  command.relative = request->mode() == v1::ScaleRequest::MODE_RELATIVE;
  command.count = request->count();
  command.delta = request->delta();
  command.wait = request->wait();
  if (!command.relative && command.count > static_cast<unsigned>(std::numeric_limits<int>::max())) {
    call->finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "scale: count out of range"));
    return call.get();
  }
  executor_.post([&target = target_, call, reply, command] {
    if (call->finished()) return;
    target.scale(command, [call, reply](greenfork::Status outcome, ScaleResult result) {
      call->finish(to_grpc_status(outcome), [&] {
        reply->set_pool(result.pool);
        reply->set_previous(result.previous);
        reply->set_desired(result.desired);
      });
    });
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::Reload(grpc::CallbackServerContext* context,
                                                 const v1::ReloadRequest* request,
                                                 v1::ReloadReply* reply) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call, reply, pool = request->pool(), wait = request->wait()] {
    if (call->finished()) return;
    target.reload(pool, wait, [call, reply, wait](greenfork::Status outcome, std::vector<std::string> pools) {
      call->finish(to_grpc_status(outcome), [&] {
        for (auto& name : pools) reply->add_pools(name);
        reply->set_completed(wait);
      });
    });
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::Stop(grpc::CallbackServerContext* context,
                                               const v1::StopRequest* request,
                                               v1::StopReply* /*reply*/) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call, graceful = request->graceful()] {
    if (call->finished()) return;
    call->finish(to_grpc_status(target.stop(graceful)));
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::ReopenLogs(grpc::CallbackServerContext* context,
                                                     const v1::ReopenLogsRequest* /*request*/,
                                                     v1::ReopenLogsReply* /*reply*/) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call] {
    if (call->finished()) return;
    call->finish(to_grpc_status(target.reopen_logs()));
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::Signal(grpc::CallbackServerContext* context,
                                                 const v1::SignalRequest* request,
                                                 v1::SignalReply* reply) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call, reply, pool = request->pool(),
                  name = request->signal()] {
    if (call->finished()) return;
    unsigned signalled = 0;
    greenfork::Status outcome = target.signal(pool, name, &signalled);
    call->finish(to_grpc_status(outcome), [&] { reply->set_workers_signalled(signalled); });
  });
  return call.get();
}

grpc::ServerUnaryReactor* ControlService::Upgrade(grpc::CallbackServerContext* context,
                                                  const v1::UpgradeRequest* request,
                                                  v1::UpgradeReply* reply) {
  auto call = UnaryCall::begin(registry_, auth_, *context);
  if (call->finished()) return call.get();
  executor_.post([&target = target_, call, reply, wait = request->wait()] {
    if (call->finished()) return;
    target.upgrade(wait, [call, reply](greenfork::Status outcome, pid_t new_master) {
      call->finish(to_grpc_status(outcome), [&] { reply->set_new_master_pid(new_master); });
    });
  });
  return call.get();
}

grpc::ServerWriteReactor<v1::Event>* ControlService::Watch(grpc::CallbackServerContext* context,
                                                           const v1::WatchRequest* request) {
  return WatchStream::begin(target_, executor_, registry_, auth_, *context, request->pool());
}

}  // namespace greenfork::arbiter
