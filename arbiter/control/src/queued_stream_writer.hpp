// The write side of a gRPC callback server stream (Watch, Heartbeat): a
// bounded queue any thread may push to, one write in flight at a time, and a
// Finish that waits for the write in flight and is sent exactly once.
//
// gRPC allows one outstanding StartWrite per stream and no write after
// Finish; this class holds the only lock and state that enforce both, so
// each reactor forwards its OnWriteDone here and never touches them itself.
//
//   QueuedStreamWriter<v1::Event> out_{[this](const v1::Event* e) { StartWrite(e); },
//                                      [this](const grpc::Status& s) { Finish(s); }};
//   out_.push(event, kMaxQueued, overflow_status);   // any thread
//   void OnWriteDone(bool ok) override { out_.write_done(ok); }
//   void OnCancel() override { out_.end(grpc::Status::CANCELLED); }
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include <grpcpp/support/status.h>

namespace greenfork::arbiter {

template <typename Message>
class QueuedStreamWriter {
 public:
  using StartWrite = std::function<void(const Message*)>;
  using Finish = std::function<void(const grpc::Status&)>;

  QueuedStreamWriter(StartWrite start_write, Finish finish)
      : start_write_(std::move(start_write)), finish_(std::move(finish)) {}

  // Queues `message` unless the stream is ending. With `max` messages queued
  // already it is dropped, and the stream ends with *overflow when given.
  // Returns whether it was queued.
  bool push(Message message, std::size_t max, const std::optional<grpc::Status>& overflow = std::nullopt) {
    bool queued = false;
    {
      std::lock_guard lock(mu_);
      if (ending_) return false;
      if (queue_.size() < max) {
        queue_.push_back(std::move(message));
        queued = true;
      } else if (overflow) {
        begin_end(*overflow);
      }
    }
    pump();
    return queued;
  }

  // The reactor's OnWriteDone. A failed write means the client went away:
  // the stream ends (the status is not seen by anyone).
  void write_done(bool ok) {
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) begin_end(grpc::Status::CANCELLED);
    }
    pump();
  }

  // Ends the stream with `status` once the write in flight is done; queued
  // messages are dropped. The first call wins.
  void end(const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      begin_end(status);
    }
    pump();
  }

  // Runs `step` (e.g. StartSendInitialMetadata, StartRead) under the lock
  // unless the stream is ending, so that it cannot overtake the Finish.
  template <typename Step>
  bool unless_ending(Step&& step) {
    std::lock_guard lock(mu_);
    if (ending_) return false;
    std::forward<Step>(step)();
    return true;
  }

  bool ending() const {
    std::lock_guard lock(mu_);
    return ending_;
  }

 private:
  void begin_end(const grpc::Status& status) {  // with mu_ held
    if (ending_) return;
    ending_ = true;
    end_status_ = status;
  }

  // Starts the next write or the deferred Finish; called without mu_ held
  // (gRPC may run OnWriteDone inline).
  void pump() {
    const Message* next = nullptr;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      if (writing_ || finish_sent_) return;
      if (ending_) {
        finish_sent_ = true;
        finish = end_status_;
      } else if (!queue_.empty()) {
        writing_ = true;
        next = &queue_.front();  // deque references survive push_back
      }
    }
    if (finish) finish_(*finish);
    if (next != nullptr) start_write_(next);
  }

  const StartWrite start_write_;
  const Finish finish_;
  mutable std::mutex mu_;
  std::deque<Message> queue_;  // front() is being written while writing_
  bool writing_ = false;
  bool ending_ = false;
  bool finish_sent_ = false;
  grpc::Status end_status_;
};

}  // namespace greenfork::arbiter
