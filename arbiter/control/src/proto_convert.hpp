// Translation at the service edge: supervisor values <-> greenfork.v1
// messages, and StatusCode -> grpc::StatusCode. No I/O, no state.
#pragma once

#include <grpcpp/support/status.h>

#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/v1/greenfork.pb.h"

namespace greenfork::arbiter {

grpc::StatusCode to_grpc_code(StatusCode code);
grpc::Status to_grpc_status(const Status& outcome);

void fill_status_reply(const ArbiterSnapshot& snapshot, v1::StatusReply* reply);
v1::Event to_proto_event(const SupervisorEvent& event);
HeartbeatReport from_proto_beat(const v1::Beat& beat);
v1::WorkerCommand to_proto_command(WorkerCommandKind kind);

}  // namespace greenfork::arbiter
