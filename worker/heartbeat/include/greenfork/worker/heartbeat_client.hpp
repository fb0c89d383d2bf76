// A worker's side of the Worker.Heartbeat stream (greenfork.proto).
//
//   auto hb = HeartbeatClient::from_environment();   // ARBITER_SOCKET, ..._ID, ..._TOKEN
//   if (!hb.ok()) { /* not under arbiterd, or heartbeat = notify */ }
//   (*hb)->on_command([](WorkerCommandKind k) { if (k == kGracefulStop) begin_stop(); });
//   if (auto s = (*hb)->ready(stats); !s.ok()) log(s.message());  // first beat = READY
//   ... every interval:  (*hb)->beat(stats);                       // never blocks
//   (*hb)->close();
//
// The stream runs on gRPC's threads; beat() only stores the latest stats
// and starts a write if none is in flight, so it is safe from any thread
// (an I/O loop) and never blocks. READY is confirmed by arbiterd with the
// initial metadata `greenfork-accepted: 1` (see greenfork.proto).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork::worker {

struct WorkerStats {
  uint64_t requests_served = 0;
  uint32_t in_flight = 0;
  double oldest_request_age_seconds = 0;
  uint64_t rss_bytes = 0;  // 0: the client fills in its own RSS from /proc
  std::string status_text;
  bool stopping = false;
};

enum class WorkerCommandKind { kGracefulStop, kReopenLogs };

struct HeartbeatEndpoint {
  std::string address;  // "unix:/path", "/path" or "HOST:PORT"
  unsigned slot = 0;
  std::string token;
};

class HeartbeatClient {
 public:
  // Reads ARBITER_SOCKET, ARBITER_WORKER_ID and ARBITER_WORKER_TOKEN
  // (contract.hpp); an error naming the variable when one is absent or bad.
  static StatusOr<std::unique_ptr<HeartbeatClient>> from_environment();
  static StatusOr<std::unique_ptr<HeartbeatClient>> connect(HeartbeatEndpoint endpoint);
  ~HeartbeatClient();
  HeartbeatClient(const HeartbeatClient&) = delete;
  HeartbeatClient& operator=(const HeartbeatClient&) = delete;

  // Opens the stream and sends the first beat (READY). Blocks until
  // arbiterd accepted it or refused it (wrong token/slot) or `timeout`
  // passed; the error says which.
  Status ready(const WorkerStats& stats, double timeout_seconds = 5.0);
  // Queues a beat with the latest stats. Non-blocking, thread-safe. Beats
  // queued faster than the stream sends them are merged (latest wins).
  void beat(const WorkerStats& stats);
  // Called on a gRPC thread for every command arbiterd sends; it must not
  // block or call close().
  // Set it before ready().
  void on_command(std::function<void(WorkerCommandKind)> handler);
  // Ends the stream (half-close, then wait briefly for arbiterd). Idempotent.
  void close();
  // False once the stream broke (arbiterd went away).
  bool connected() const;

  class Impl;

 private:
  explicit HeartbeatClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace greenfork::worker
