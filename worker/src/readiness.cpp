#include "readiness.hpp"

#include <cstdlib>
#include <string>

#include "greenfork/contract.hpp"
#include "greenfork/sd_notify.hpp"
#ifdef GF_HAVE_HEARTBEAT
#include "greenfork/worker/heartbeat_client.hpp"
#endif

namespace greenfork::worker {

namespace {

class NoReadiness final : public Readiness {
 public:
  Status ready() override { return {}; }
  void beat(const EngineStats&) override {}
  void stopping() override {}
  void close() override {}
  const char* kind() const override { return "none"; }
};

class NotifyReadiness final : public Readiness {
 public:
  Status ready() override { return sd_notify("READY=1\nSTATUS=serving"); }
  void beat(const EngineStats& s) override {
    (void)sd_notify("WATCHDOG=1\nSTATUS=served " + std::to_string(s.requests_served) +
                    ", in flight " + std::to_string(s.in_flight));
  }
  void stopping() override { (void)sd_notify("STOPPING=1"); }
  void close() override {}
  const char* kind() const override { return "sd_notify"; }
};

#ifdef GF_HAVE_HEARTBEAT
WorkerStats to_worker_stats(const EngineStats& s) {
  WorkerStats w;
  w.requests_served = s.requests_served;
  w.in_flight = s.in_flight;
  w.oldest_request_age_seconds = s.oldest_request_age_seconds;
  w.stopping = s.stopping;
  w.status_text = s.stopping ? "stopping" : "serving";
  return w;
}

class GrpcReadiness final : public Readiness {
 public:
  explicit GrpcReadiness(std::unique_ptr<HeartbeatClient> client) : client_(std::move(client)) {}
  Status ready() override { return client_->ready(WorkerStats{}); }
  void beat(const EngineStats& s) override { client_->beat(to_worker_stats(s)); }
  void stopping() override {
    EngineStats s;
    s.stopping = true;
    client_->beat(to_worker_stats(s));
  }
  void close() override { client_->close(); }
  const char* kind() const override { return "gRPC heartbeat"; }

 private:
  std::unique_ptr<HeartbeatClient> client_;
};
#endif

}  // namespace

StatusOr<std::unique_ptr<Readiness>> Readiness::create(Commands commands) {
  if (std::getenv(contract::kArbiterSocket) != nullptr) {
#ifdef GF_HAVE_HEARTBEAT
    auto client = HeartbeatClient::from_environment();
    if (!client.ok()) {
      if (std::getenv(contract::kNotifySocket) == nullptr) return client.status();
    } else {
      (*client)->on_command([commands](WorkerCommandKind kind) {
        if (kind == WorkerCommandKind::kGracefulStop && commands.graceful_stop) {
          commands.graceful_stop();
        } else if (kind == WorkerCommandKind::kReopenLogs && commands.reopen_logs) {
          commands.reopen_logs();
        }
      });
      return std::unique_ptr<Readiness>(std::make_unique<GrpcReadiness>(std::move(*client)));
    }
#endif
  }
  (void)commands;
  if (std::getenv(contract::kNotifySocket) != nullptr) {
    return std::unique_ptr<Readiness>(std::make_unique<NotifyReadiness>());
  }
  return std::unique_ptr<Readiness>(std::make_unique<NoReadiness>());
}

}  // namespace greenfork::worker
