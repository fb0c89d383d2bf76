// One Control.Watch call: a subscription on the supervisor's event feed,
// written to the client one event at a time.
//
// The listener runs on the loop thread and only queues (bounded: a client
// that falls kMaxQueued events behind is cut off with RESOURCE_EXHAUSTED,
// the loop never waits for a slow reader). Initial metadata is sent once the
// subscription is in place, so a client knows from then on it misses nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <grpcpp/support/server_callback.h>

#include "bearer_check.hpp"
#include "call_registry.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/v1/greenfork.pb.h"

namespace greenfork::arbiter {

class WatchStream final : public grpc::ServerWriteReactor<v1::Event>,
                          public OpenCall,
                          public std::enable_shared_from_this<WatchStream> {
 public:
  static constexpr std::size_t kMaxQueued = 4096;

  static WatchStream* begin(ControlTarget& target, LoopExecutor& executor,
                            const std::shared_ptr<CallRegistry>& registry,
                            const BearerCheck& auth, const grpc::CallbackServerContext& context,
                            std::string pool_filter);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void abort_for_shutdown() override;

 private:
  WatchStream(ControlTarget& target, LoopExecutor& executor,
              std::shared_ptr<CallRegistry> registry, std::string pool_filter);

  void subscribe();                               // loop thread
  void deliver(const SupervisorEvent& event);     // loop thread
  void end(const grpc::Status& status);
  // Starts the next write or the deferred Finish; call without mu_ held.
  void pump();

  ControlTarget& target_;
  LoopExecutor& executor_;
  std::shared_ptr<CallRegistry> registry_;
  const std::string pool_filter_;
  std::shared_ptr<WatchStream> self_;  // gRPC's reference, dropped in OnDone
  std::optional<uint64_t> subscription_;  // loop thread only

  std::mutex mu_;
  std::deque<v1::Event> queue_;  // front() is being written while writing_
  bool writing_ = false;
  bool ending_ = false;
  bool finish_sent_ = false;
  grpc::Status end_status_;
};

}  // namespace greenfork::arbiter
