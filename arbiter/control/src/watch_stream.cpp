#include "watch_stream.hpp"

#include "proto_convert.hpp"

namespace greenfork::arbiter {

WatchStream::WatchStream(ControlTarget& target, LoopExecutor& executor,
                         std::shared_ptr<CallRegistry> registry, std::string pool_filter)
    : target_(target), executor_(executor), registry_(std::move(registry)),
      pool_filter_(std::move(pool_filter)) {}

WatchStream* WatchStream::begin(ControlTarget& target, LoopExecutor& executor,
                                const std::shared_ptr<CallRegistry>& registry,
                                const BearerCheck& auth, const grpc::CallbackServerContext& context,
                                std::string pool_filter) {
  std::shared_ptr<WatchStream> stream(
      new WatchStream(target, executor, registry, std::move(pool_filter)));
  stream->self_ = stream;
  if (!auth.allows(context)) {
    stream->end(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token"));
  } else if (!registry->add(stream)) {
    stream->end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "arbiterd is shutting down"));
  } else {
    executor.post([stream] { stream->subscribe(); });
  }
  return stream.get();
}

void WatchStream::subscribe() {
  {
    std::lock_guard lock(mu_);
    if (ending_) return;
  }
  std::weak_ptr<WatchStream> weak = weak_from_this();
  subscription_ = target_.subscribe([weak](const SupervisorEvent& event) {
    if (auto stream = weak.lock()) stream->deliver(event);
  });
  // Under mu_ so that it cannot overtake a Finish sent by end().
  std::lock_guard lock(mu_);
  if (!ending_) StartSendInitialMetadata();
}

void WatchStream::deliver(const SupervisorEvent& event) {
  if (!pool_filter_.empty() && !event.pool.empty() && event.pool != pool_filter_) return;
  {
    std::lock_guard lock(mu_);
    if (ending_) return;
    if (queue_.size() >= kMaxQueued) {
      ending_ = true;
      end_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "watch: the client fell too far behind the events");
    } else {
      queue_.push_back(to_proto_event(event));
    }
  }
  pump();
}

void WatchStream::pump() {
  const v1::Event* next = nullptr;
  bool send_finish = false;
  grpc::Status status;
  {
    std::lock_guard lock(mu_);
    if (writing_ || finish_sent_) return;
    if (ending_) {
      finish_sent_ = send_finish = true;
      status = end_status_;
    } else if (!queue_.empty()) {
      writing_ = true;
      next = &queue_.front();  // deque references survive push_back
    }
  }
  if (send_finish) Finish(status);
  if (next != nullptr) StartWrite(next);
}

void WatchStream::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok && !ending_) {
      ending_ = true;  // the client went away; the status is not seen
      end_status_ = grpc::Status::CANCELLED;
    }
  }
  pump();
}

void WatchStream::end(const grpc::Status& status) {
  {
    std::lock_guard lock(mu_);
    if (ending_) return;
    ending_ = true;
    end_status_ = status;
  }
  pump();
}

void WatchStream::OnCancel() { end(grpc::Status::CANCELLED); }

// The stream ends cleanly when arbiterd stops: the client saw every event.
void WatchStream::abort_for_shutdown() { end(grpc::Status::OK); }

void WatchStream::OnDone() {
  registry_->remove(this);
  auto keep = std::move(self_);
  // The subscription lives on the loop thread; end it there.
  executor_.post([stream = std::move(keep)] {
    if (stream->subscription_) stream->target_.unsubscribe(*stream->subscription_);
    stream->subscription_.reset();
  });
}

}  // namespace greenfork::arbiter
