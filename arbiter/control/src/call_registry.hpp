// The calls a ControlServer has open, so that shutdown() can end them.
//
// Completions from the supervisor loop may arrive long after a call was
// cancelled or the server shut down; every call object therefore finishes
// at most once (a mutex-guarded flag) and is kept alive by shared_ptrs held
// by gRPC (until OnDone) and by closures in flight.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <grpcpp/support/status.h>

namespace greenfork::arbiter {

class OpenCall {
 public:
  virtual ~OpenCall() = default;
  // Ends the call because the server is shutting down. Thread-safe, idempotent.
  virtual void abort_for_shutdown() = 0;
};

class CallRegistry {
 public:
  // False once closed: the caller must refuse the call (UNAVAILABLE).
  bool add(const std::shared_ptr<OpenCall>& call) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    calls_[call.get()] = call;
    return true;
  }
  // Every call starts here: nullopt when `call` is admitted (and added), else
  // the status to end it with at once.
  std::optional<grpc::Status> admit(const std::shared_ptr<OpenCall>& call, bool authenticated) {
    if (!authenticated) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
    if (!add(call)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down");
    return std::nullopt;
  }
  void remove(OpenCall* call) {
    std::lock_guard lock(mu_);
    calls_.erase(call);
  }
  // Refuses new calls and aborts every open one.
  void close_and_abort_all() {
    std::vector<std::shared_ptr<OpenCall>> open;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      for (auto& [raw, weak] : calls_) {
        if (auto strong = weak.lock()) open.push_back(std::move(strong));
      }
    }
    for (auto& call : open) call->abort_for_shutdown();
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  std::unordered_map<OpenCall*, std::weak_ptr<OpenCall>> calls_;
};

}  // namespace greenfork::arbiter
