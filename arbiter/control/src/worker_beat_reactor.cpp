#include "worker_beat_reactor.hpp"

#include "proto_convert.hpp"

namespace greenfork::arbiter {

WorkerBeatReactor::WorkerBeatReactor(ControlTarget& target, LoopExecutor& executor,
                                 std::shared_ptr<CallRegistry> registry,
                                 grpc::CallbackServerContext& context)
    : target_(target), executor_(executor), registry_(std::move(registry)), context_(context) {}

WorkerBeatReactor* WorkerBeatReactor::begin(ControlTarget& target, LoopExecutor& executor,
                                            const std::shared_ptr<CallRegistry>& registry,
                                            const BearerCheck& auth,
                                            grpc::CallbackServerContext& context) {
  std::shared_ptr<WorkerBeatReactor> stream(new WorkerBeatReactor(target, executor, registry, context));
  stream->self_ = stream;
  if (auto refused = registry->admit(stream, auth.allows(context))) {
    stream->commands_.end(*refused);
  } else {
    stream->StartRead(&stream->incoming_);
  }
  return stream.get();
}

void WorkerBeatReactor::OnReadDone(bool ok) {
  if (!ok) {
    // The worker closed its side (or went away): not a heartbeat failure.
    commands_.end(grpc::Status::OK);
    return;
  }
  executor_.post([self = shared_from_this(), report = from_proto_beat(incoming_)]() mutable {
    self->handle_beat(std::move(report));
  });
}

void WorkerBeatReactor::handle_beat(HeartbeatReport report) {
  if (commands_.ending()) return;
  const bool first = !slot_.has_value();
  if (!first) {
    if (report.slot != 0 && report.slot != *slot_) {
      commands_.end(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                       "heartbeat for slot " + std::to_string(report.slot) +
                           " on the stream of slot " + std::to_string(*slot_)));
      return;
    }
    report.slot = *slot_;
    report.token = token_;
  }
  std::weak_ptr<WorkerBeatReactor> weak = weak_from_this();
  Status outcome = target_.worker_beat(report, first, [weak](WorkerCommandKind kind) {
    if (auto stream = weak.lock()) stream->send_command(kind);
  });
  if (!outcome.ok()) {
    commands_.end(to_grpc_status(outcome));
    return;
  }
  if (first) {
    slot_ = report.slot;
    token_ = report.token;
  }
  // Under the writer's lock so that neither can overtake its Finish.
  commands_.unless_ending([&] {
    if (first) {
      context_.AddInitialMetadata(kHeartbeatAcceptedKey, "1");
      StartSendInitialMetadata();
    }
    StartRead(&incoming_);
  });
}

void WorkerBeatReactor::send_command(WorkerCommandKind kind) {
  // A worker that does not read its commands loses the newest ones.
  commands_.push(to_proto_command(kind), kMaxQueuedCommands);
}

void WorkerBeatReactor::OnCancel() { commands_.end(grpc::Status::CANCELLED); }

void WorkerBeatReactor::abort_for_shutdown() {
  commands_.end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down"));
}

void WorkerBeatReactor::OnDone() {
  registry_->remove(this);
  auto keep = std::move(self_);
  // Beats already posted run first (the loop is FIFO) and see the stream ending.
  executor_.post([stream = std::move(keep)] {
    if (stream->slot_) stream->target_.worker_stream_closed(*stream->slot_);
  });
}

}  // namespace greenfork::arbiter
