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
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/support/server_callback.h>

#include "bearer_check.hpp"
#include "call_registry.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/v1/greenfork.pb.h"
#include "queued_stream_writer.hpp"

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

  void OnWriteDone(bool ok) override { events_.write_done(ok); }
  void OnCancel() override;
  void OnDone() override;
  void abort_for_shutdown() override;

 private:
  WatchStream(ControlTarget& target, LoopExecutor& executor,
              std::shared_ptr<CallRegistry> registry, std::string pool_filter);

  void subscribe();                               // loop thread
  void deliver(const SupervisorEvent& event);     // loop thread

  ControlTarget& target_;
  LoopExecutor& executor_;
  std::shared_ptr<CallRegistry> registry_;
  const std::string pool_filter_;
  std::shared_ptr<WatchStream> self_;  // gRPC's reference, dropped in OnDone
  std::optional<uint64_t> subscription_;  // loop thread only

  QueuedStreamWriter<v1::Event> events_{[this](const v1::Event* e) { StartWrite(e); },
                                         [this](const grpc::Status& s) { Finish(s); }};
};

}  // namespace greenfork::arbiter
