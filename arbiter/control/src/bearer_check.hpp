// Authentication of the TCP control address.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/server_context.h>

#include "rate_limited_log.hpp"

namespace greenfork::arbiter {

// The TCP control address checks `authorization: Bearer <token>` on every
// call; the unix socket relies on its file mode (empty token: no check).
// Each refusal is logged, at most one line a second (with the count).
class BearerCheck {
 public:
  // peer_name turns gRPC's peer string into the client's address for the log.
  using PeerName = std::function<std::string(const std::string& grpc_peer)>;

  explicit BearerCheck(std::string token, PeerName peer_name = nullptr);
  bool allows(const grpc::CallbackServerContext& context) const;

 private:
  std::string token_;
  PeerName peer_name_;
  std::shared_ptr<RateLimitedLog> refusals_;
};

}  // namespace greenfork::arbiter
