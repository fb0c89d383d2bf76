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
  if (auto refused = registry->admit(stream, auth.allows(context))) {
    stream->events_.end(*refused);
  } else {
    executor.post([stream] { stream->subscribe(); });
  }
  return stream.get();
}

void WatchStream::subscribe() {
  if (events_.ending()) return;
  std::weak_ptr<WatchStream> weak = weak_from_this();
  subscription_ = target_.subscribe([weak](const SupervisorEvent& event) {
    if (auto stream = weak.lock()) stream->deliver(event);
  });
  // Under the writer's lock so that it cannot overtake its Finish.
  events_.unless_ending([this] { StartSendInitialMetadata(); });
}

void WatchStream::deliver(const SupervisorEvent& event) {
  if (!pool_filter_.empty() && !event.pool.empty() && event.pool != pool_filter_) return;
  events_.push(to_proto_event(event), kMaxQueued,
               grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "watch: the client fell too far behind the events"));
}

void WatchStream::OnCancel() { events_.end(grpc::Status::CANCELLED); }

// The stream ends cleanly when arbiterd stops: the client saw every event.
void WatchStream::abort_for_shutdown() { events_.end(grpc::Status::OK); }

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
