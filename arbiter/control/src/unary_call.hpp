// One unary RPC in flight: finished exactly once, from whichever thread gets
// there first (the loop's completion, a client cancel, or shutdown).
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include <grpcpp/support/server_callback.h>

#include "bearer_check.hpp"
#include "call_registry.hpp"

namespace greenfork::arbiter {

class UnaryCall final : public grpc::ServerUnaryReactor,
                        public OpenCall,
                        public std::enable_shared_from_this<UnaryCall> {
 public:
  // Registers the call, and finishes it at once with UNAVAILABLE when the
  // server is shutting down or UNAUTHENTICATED when the check refuses it.
  static std::shared_ptr<UnaryCall> begin(const std::shared_ptr<CallRegistry>& registry,
                                          const BearerCheck& auth,
                                          const grpc::CallbackServerContext& context);

  // The first call sends `status` (after `fill` wrote the reply); later
  // calls do nothing and return false.
  bool finish(const grpc::Status& status, const std::function<void()>& fill = {});
  bool finished() const;

  void OnCancel() override;
  void OnDone() override;
  void abort_for_shutdown() override;

 private:
  explicit UnaryCall(std::shared_ptr<CallRegistry> registry) : registry_(std::move(registry)) {}

  std::shared_ptr<CallRegistry> registry_;
  std::shared_ptr<UnaryCall> self_;  // gRPC's reference, dropped in OnDone
  mutable std::mutex mu_;
  bool finished_ = false;
};

}  // namespace greenfork::arbiter
