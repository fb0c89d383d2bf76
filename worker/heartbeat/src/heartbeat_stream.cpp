#include "heartbeat_stream.hpp"

#include <chrono>

namespace greenfork::worker {
namespace {

// The server's acknowledgement of READY (arbiter/control/src/heartbeat_stream.hpp).
constexpr const char* kAcceptedKey = "greenfork-accepted";

std::string describe(const grpc::Status& status) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  const auto code = static_cast<size_t>(status.error_code());
  std::string name = code < std::size(kNames) ? kNames[code] : "code " + std::to_string(code);
  return status.error_message().empty() ? name : name + ": " + status.error_message();
}

}  // namespace

HeartbeatStream::~HeartbeatStream() {
  close();
}

Status HeartbeatStream::open(v1::Beat first, double timeout_seconds) {
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::error("heartbeat: ready() was already sent");
    started_ = true;
    writing_ = true;
    in_flight_ = std::move(first);
  }
  stub_.async()->Heartbeat(&context_, this);
  AddHold();
  StartRead(&incoming_);
  StartWrite(&in_flight_);
  StartCall();

  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(timeout_seconds);
  if (!cv_.wait_until(lock, deadline, [&] { return accepted_ || done_ || server_ended_; })) {
    lock.unlock();
    context_.TryCancel();
    return Status::error("heartbeat: arbiterd at " + address_ + " did not accept READY within " +
                         std::to_string(timeout_seconds) + "s");
  }
  if (accepted_) return {};
  cv_.wait(lock, [&] { return done_; });  // the server ended the call: its status says why
  return Status::error("heartbeat: arbiterd at " + address_ + " refused READY: " +
                       describe(final_status_));
}

void HeartbeatStream::send(v1::Beat beat) {
  Next next;
  {
    std::lock_guard lock(mu_);
    if (!started_ || closing_ || server_ended_) return;
    pending_ = std::move(beat);
    next = next_step_locked();
  }
  run(next);
}

void HeartbeatStream::set_handler(std::function<void(WorkerCommandKind)> handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

HeartbeatStream::Next HeartbeatStream::next_step_locked() {
  Next next;
  if (writing_ || hold_released_) return next;
  if (!closing_ && !server_ended_ && pending_) {
    in_flight_ = std::move(*pending_);
    pending_.reset();
    writing_ = next.write = true;
    return next;
  }
  if (closing_ && !server_ended_ && !writes_done_sent_) {
    writes_done_sent_ = next.writes_done = true;
  }
  if (closing_ || server_ended_) hold_released_ = next.remove_hold = true;
  return next;
}

void HeartbeatStream::run(const Next& next) {
  if (next.write) StartWrite(&in_flight_);
  if (next.writes_done) StartWritesDone();
  if (next.remove_hold) RemoveHold();
}

void HeartbeatStream::close() {
  Next next;
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    if (!closing_) {
      closing_ = true;
      next = next_step_locked();
    }
  }
  run(next);
  wait_done();
}

void HeartbeatStream::wait_done() {
  std::unique_lock lock(mu_);
  if (cv_.wait_for(lock, std::chrono::seconds(2), [&] { return done_; })) return;
  lock.unlock();
  context_.TryCancel();  // OnDone is guaranteed to follow
  lock.lock();
  cv_.wait(lock, [&] { return done_; });
}

bool HeartbeatStream::connected() const {
  std::lock_guard lock(mu_);
  return accepted_ && !server_ended_ && !done_;
}

void HeartbeatStream::OnReadInitialMetadataDone(bool ok) {
  std::lock_guard lock(mu_);
  if (ok) {
    const auto& metadata = context_.GetServerInitialMetadata();
    accepted_ = metadata.find(kAcceptedKey) != metadata.end();
  }
  cv_.notify_all();
}

void HeartbeatStream::OnReadDone(bool ok) {
  if (ok) {
    std::function<void(WorkerCommandKind)> handler;
    {
      std::lock_guard lock(mu_);
      handler = handler_;
    }
    if (handler && incoming_.kind() == v1::WorkerCommand::GRACEFUL_STOP) {
      handler(WorkerCommandKind::kGracefulStop);
    } else if (handler && incoming_.kind() == v1::WorkerCommand::REOPEN_LOGS) {
      handler(WorkerCommandKind::kReopenLogs);
    }
    StartRead(&incoming_);
    return;
  }
  Next next;
  {
    std::lock_guard lock(mu_);
    server_ended_ = true;
    next = next_step_locked();
    cv_.notify_all();
  }
  run(next);
}

void HeartbeatStream::OnWriteDone(bool ok) {
  Next next;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) server_ended_ = true;  // the stream broke; OnDone tells why
    next = next_step_locked();
  }
  run(next);
}

void HeartbeatStream::OnDone(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  done_ = true;
  final_status_ = status;
  cv_.notify_all();
}

}  // namespace greenfork::worker
