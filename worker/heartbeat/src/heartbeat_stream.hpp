// The client reactor behind HeartbeatClient: one Worker.Heartbeat call.
//
// Writes start from reactions and from other threads (beat(), close()), so
// the call carries a hold (gRPC's AddHold) until no more writes can start:
// after close() or once the server ended the stream, and only when no
// write is in flight.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "greenfork/status.hpp"
#include "greenfork/v1/greenfork.grpc.pb.h"
#include "greenfork/worker/heartbeat_client.hpp"

namespace greenfork::worker {

class HeartbeatStream final : public grpc::ClientBidiReactor<v1::Beat, v1::WorkerCommand> {
 public:
  HeartbeatStream(v1::Worker::Stub& stub, std::string address)
      : stub_(stub), address_(std::move(address)) {}
  ~HeartbeatStream() override;

  Status open(v1::Beat first, double timeout_seconds);
  void send(v1::Beat beat);
  void set_handler(std::function<void(WorkerCommandKind)> handler);
  void close();
  bool connected() const;

  void OnReadInitialMetadataDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // With mu_ held: what the caller must do after unlocking.
  struct Next {
    bool write = false;
    bool writes_done = false;
    bool remove_hold = false;
  };
  Next next_step_locked();
  void run(const Next& next);
  void wait_done();

  v1::Worker::Stub& stub_;
  const std::string address_;
  grpc::ClientContext context_;
  v1::WorkerCommand incoming_;
  v1::Beat in_flight_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::function<void(WorkerCommandKind)> handler_;
  std::optional<v1::Beat> pending_;  // the latest beat not yet written (merged)
  bool started_ = false;
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;      // close() asked for WritesDone
  bool server_ended_ = false; // the read side ended: no more writes
  bool writes_done_sent_ = false;
  bool hold_released_ = false;
  bool done_ = false;
  grpc::Status final_status_;
};

}  // namespace greenfork::worker
