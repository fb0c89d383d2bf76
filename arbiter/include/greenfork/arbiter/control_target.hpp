// The supervisor as the control plane sees it.
//
// arbiterd's gRPC service (arbiter/control/) translates each RPC into a call
// on ControlTarget. gRPC threads never call it directly: they post a closure
// through LoopExecutor and the closure runs on the supervisor's loop thread,
// where all supervisor state lives. Completions (`done`) also run on the
// loop thread, possibly much later (after workers became READY).
//
//   executor.post([&target, req, reactor] {
//     target.scale(req, [reactor](Status o, ScaleResult r) { reactor->finish(o, r); });
//   });
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "greenfork/request_counters.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

enum class WorkerState { kStarting, kReady, kDraining, kStopping };
enum class PoolState { kRunning, kReloading, kStopped, kFailed };

struct WorkerSnapshot {
  unsigned slot = 0;
  pid_t pid = 0;
  WorkerState state = WorkerState::kStarting;
  double uptime_seconds = 0;
  double last_heartbeat_age_seconds = -1;  // -1: never
  uint64_t requests_served = 0;
  uint32_t requests_in_flight = 0;
  uint64_t rss_bytes = 0;
  unsigned generation = 0;
  std::string status_text;
  // For /metrics, the status page and gctl top.
  double oldest_request_age_seconds = 0;
  uint32_t connections = 0;
  double requests_per_second = 0;
  double cpu_seconds = -1;  // -1: unknown (/proc unreadable)
};

// Connections waiting in one listening socket's accept queue.
struct ListenQueue {
  std::string bind;
  uint64_t queued = 0;
};

struct PoolSnapshot {
  std::string name;
  std::vector<std::string> command;
  unsigned desired = 0;
  unsigned running = 0;
  unsigned ready = 0;
  PoolState state = PoolState::kRunning;
  std::string state_reason;
  uint64_t restarts = 0;
  std::vector<std::string> binds;
  std::string heartbeat;
  unsigned max_workers = 0;
  std::vector<WorkerSnapshot> workers;
  // Metrics: the pool's requests since arbiterd started (exited workers
  // included), those no worker classified, restarts by RestartReason
  // (worker_metrics.hpp), reloads started, TCP listeners' accept queues.
  RequestCounters requests;
  uint64_t requests_unclassified = 0;
  std::array<uint64_t, 5> restarts_by_reason{};
  uint64_t reloads = 0;
  std::vector<ListenQueue> listen_queues;
};

struct ArbiterSnapshot {
  pid_t pid = 0;
  std::string version;
  double uptime_seconds = 0;
  std::string name;
  std::vector<PoolSnapshot> pools;
  double start_unix_time = 0;
};

// Results are greenfork::Status: its code maps onto gRPC's at the service
// edge (arbiter/control) and onto gctl's exit status.
using greenfork::Status;
using greenfork::StatusCode;

struct ScaleCommand {
  std::string pool;  // empty: the only pool
  bool relative = false;
  unsigned count = 0;  // absolute target
  int delta = 0;       // relative change
  bool wait = false;   // complete when the new count is reached and READY
};

struct ScaleResult {
  std::string pool;
  unsigned previous = 0;
  unsigned desired = 0;
};

struct SupervisorEvent {
  enum class Kind {
    kWorkerSpawned,
    kWorkerReady,
    kWorkerExited,
    kWorkerTimedOut,
    kPoolScaled,
    kPoolReloading,
    kPoolReloaded,
    kPoolRolledBack,
    kPoolFailed,
    kArbiterStopping,
    kArbiterUpgrading,
    kWorkerRestarting,  // replaced while it serves (a successor first); see reason
  };
  Kind kind = Kind::kWorkerSpawned;
  double unix_time = 0;
  std::string pool;
  unsigned slot = 0;
  pid_t pid = 0;
  std::string detail;
  std::string reason;  // kWorkerRestarting: "memory"; kPoolScaled by the autoscaler: "autoscale"
};

// One message of a worker's gRPC heartbeat stream.
struct HeartbeatReport {
  unsigned slot = 0;
  std::string token;
  uint64_t requests_served = 0;
  uint32_t requests_in_flight = 0;
  double oldest_request_age_seconds = 0;
  uint64_t rss_bytes = 0;
  std::string status_text;
  bool stopping = false;
};

enum class WorkerCommandKind { kGracefulStop, kReopenLogs };

class ControlTarget {
 public:
  virtual ~ControlTarget() = default;

  virtual ArbiterSnapshot status() const = 0;
  virtual void scale(const ScaleCommand& command,
                     std::function<void(Status, ScaleResult)> done) = 0;
  // pool empty: every pool. `done` gets the pools being reloaded; with wait
  // it runs when they finished (kAborted with the reason when rolled back).
  virtual void reload(const std::string& pool, bool wait,
                      std::function<void(Status, std::vector<std::string>)> done) = 0;
  virtual Status stop(bool graceful) = 0;
  virtual Status reopen_logs() = 0;
  virtual Status signal(const std::string& pool, const std::string& signal_name,
                         unsigned* workers_signalled) = 0;
  // Re-exec arbiterd; with wait, `done` runs once the new master's workers
  // are READY (this master then drains and exits).
  virtual void upgrade(bool wait, std::function<void(Status, pid_t)> done) = 0;

  // Watch: the listener runs on the loop thread for every event until
  // unsubscribe(id).
  virtual uint64_t subscribe(std::function<void(const SupervisorEvent&)> listener) = 0;
  virtual void unsubscribe(uint64_t id) = 0;

  // Worker.Heartbeat. The first report of a stream authenticates (slot and
  // token must match a live worker: kUnauthenticated / kPermissionDenied
  // otherwise) and means READY; `commands` is how the arbiter sends
  // WorkerCommands back on that stream until worker_stream_closed(slot).
  virtual Status worker_beat(const HeartbeatReport& report, bool first,
                              std::function<void(WorkerCommandKind)> commands) = 0;
  virtual void worker_stream_closed(unsigned slot) = 0;
};

// Runs closures on the supervisor's loop thread (asio::post underneath).
class LoopExecutor {
 public:
  virtual ~LoopExecutor() = default;
  virtual void post(std::function<void()> fn) = 0;
};

}  // namespace greenfork::arbiter
