// gctl's way to arbiterd: check the address is reachable (so that the error
// names the socket and the errno), then a gRPC channel and per-call contexts
// carrying the deadline and, over TCP, the bearer token.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "greenfork/control_address.hpp"
#include "greenfork/status.hpp"
#include "greenfork/v1/greenfork.grpc.pb.h"

namespace greenfork::ctl {

class ControlChannel {
 public:
  // Fails with "cannot reach arbiterd at ADDR: <why>" when nothing listens.
  static StatusOr<ControlChannel> open(const ControlAddress& address, std::string token,
                                   double connect_timeout_seconds);

  // A context with a deadline (none when timeout_seconds <= 0) and the token.
  std::unique_ptr<grpc::ClientContext> context(double timeout_seconds) const;
  v1::Control::Stub& stub() const { return *stub_; }
  const ControlAddress& address() const { return address_; }

 private:
  ControlChannel(ControlAddress address, std::string token);
  ControlAddress address_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Control::Stub> stub_;
};

// An RPC's answer as a Status (the codes are gRPC's).
Status from_grpc_status(const grpc::Status& answer);

}  // namespace greenfork::ctl
