#include "unary_call.hpp"

#include <grpcpp/server_context.h>

namespace greenfork::arbiter {

std::shared_ptr<UnaryCall> UnaryCall::begin(const std::shared_ptr<CallRegistry>& registry,
                                            const BearerCheck& auth,
                                            const grpc::CallbackServerContext& context) {
  std::shared_ptr<UnaryCall> call(new UnaryCall(registry));
  call->self_ = call;
  if (auto refused = registry->admit(call, auth.allows(context))) call->finish(*refused);
  return call;
}

bool UnaryCall::finish(const grpc::Status& status, const std::function<void()>& fill) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return false;
    finished_ = true;
    // The reply object belongs to gRPC until Finish: fill it before.
    if (fill && status.ok()) fill();
  }
  Finish(status);
  return true;
}

bool UnaryCall::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

void UnaryCall::OnCancel() {
  finish(grpc::Status::CANCELLED);
}

void UnaryCall::abort_for_shutdown() {
  finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down"));
}

void UnaryCall::OnDone() {
  registry_->remove(this);
  // Closures still holding a shared_ptr keep the object; they only see
  // finished() == true from now on.
  auto keep = std::move(self_);
}

}  // namespace greenfork::arbiter
