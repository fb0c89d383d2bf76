// Authentication of the TCP control address.
#pragma once

#include <string>

#include <grpcpp/server_context.h>

namespace greenfork::arbiter {

// The TCP control address checks `authorization: Bearer <token>` on every
// call; the unix socket relies on its file mode (empty token: no check).
class BearerCheck {
 public:
  explicit BearerCheck(std::string token) : token_(std::move(token)) {}
  bool allows(const grpc::CallbackServerContext& context) const;

 private:
  std::string token_;
};

}  // namespace greenfork::arbiter
