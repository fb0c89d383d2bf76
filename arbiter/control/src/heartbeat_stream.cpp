#include "heartbeat_stream.hpp"

#include "proto_convert.hpp"

namespace greenfork::arbiter {

HeartbeatStream::HeartbeatStream(ControlTarget& target, LoopExecutor& executor,
                                 std::shared_ptr<CallRegistry> registry,
                                 grpc::CallbackServerContext& context)
    : target_(target), executor_(executor), registry_(std::move(registry)), context_(context) {}

HeartbeatStream* HeartbeatStream::begin(ControlTarget& target, LoopExecutor& executor,
                                        const std::shared_ptr<CallRegistry>& registry,
                                        const BearerCheck& auth,
                                        grpc::CallbackServerContext& context) {
  std::shared_ptr<HeartbeatStream> stream(new HeartbeatStream(target, executor, registry, context));
  stream->self_ = stream;
  if (!auth.allows(context)) {
    stream->end(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token"));
  } else if (!registry->add(stream)) {
    stream->end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down"));
  } else {
    stream->StartRead(&stream->incoming_);
  }
  return stream.get();
}

void HeartbeatStream::OnReadDone(bool ok) {
  if (!ok) {
    // The worker closed its side (or went away): not a heartbeat failure.
    end(grpc::Status::OK);
    return;
  }
  executor_.post([self = shared_from_this(), report = from_proto_beat(incoming_)]() mutable {
    self->handle_beat(std::move(report));
  });
}

void HeartbeatStream::handle_beat(HeartbeatReport report) {
  {
    std::lock_guard lock(mu_);
    if (ending_) return;
  }
  const bool first = !slot_.has_value();
  if (!first) {
    if (report.slot != 0 && report.slot != *slot_) {
      end(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                       "heartbeat for slot " + std::to_string(report.slot) +
                           " on the stream of slot " + std::to_string(*slot_)));
      return;
    }
    report.slot = *slot_;
    report.token = token_;
  }
  std::weak_ptr<HeartbeatStream> weak = weak_from_this();
  Outcome outcome = target_.worker_beat(report, first, [weak](WorkerCommandKind kind) {
    if (auto stream = weak.lock()) stream->send_command(kind);
  });
  if (!outcome.ok()) {
    end(to_grpc_status(outcome));
    return;
  }
  if (first) {
    slot_ = report.slot;
    token_ = report.token;
  }
  // Under mu_ so that neither can overtake a Finish sent by end().
  std::lock_guard lock(mu_);
  if (ending_) return;
  if (first) {
    context_.AddInitialMetadata(kHeartbeatAcceptedKey, "1");
    StartSendInitialMetadata();
  }
  StartRead(&incoming_);
}

void HeartbeatStream::send_command(WorkerCommandKind kind) {
  {
    std::lock_guard lock(mu_);
    if (ending_ || commands_.size() >= kMaxQueuedCommands) return;
    commands_.push_back(to_proto_command(kind));
  }
  pump();
}

void HeartbeatStream::pump() {
  const v1::WorkerCommand* next = nullptr;
  bool send_finish = false;
  grpc::Status status;
  {
    std::lock_guard lock(mu_);
    if (writing_ || finish_sent_) return;
    if (ending_) {
      finish_sent_ = send_finish = true;
      status = end_status_;
    } else if (!commands_.empty()) {
      writing_ = true;
      next = &commands_.front();  // deque references survive push_back
    }
  }
  if (send_finish) Finish(status);
  if (next != nullptr) StartWrite(next);
}

void HeartbeatStream::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    commands_.pop_front();
    if (!ok && !ending_) {
      ending_ = true;
      end_status_ = grpc::Status::CANCELLED;
    }
  }
  pump();
}

void HeartbeatStream::end(const grpc::Status& status) {
  {
    std::lock_guard lock(mu_);
    if (ending_) return;
    ending_ = true;
    end_status_ = status;
  }
  pump();
}

void HeartbeatStream::OnCancel() { end(grpc::Status::CANCELLED); }

void HeartbeatStream::abort_for_shutdown() {
  end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down"));
}

void HeartbeatStream::OnDone() {
  registry_->remove(this);
  auto keep = std::move(self_);
  // Beats already posted run first (the loop is FIFO) and see ending_.
  executor_.post([stream = std::move(keep)] {
    if (stream->slot_) stream->target_.worker_stream_closed(*stream->slot_);
  });
}

}  // namespace greenfork::arbiter
