// Deadline: every timeout a connection has, in one place.
//
//   wait          what it bounds                               setting
//   proxy header  from accept to the end of a PROXY header     --header-timeout
//                 (--proxy-protocol); the first request's head then
//                 gets its own --header-timeout
//   TLS handshake from its start (after a PROXY header) to its   --header-timeout
//                 end (--certfile); the first request's head then
//                 gets its own --header-timeout
//   first request from accept to a whole request head         --header-timeout
//   head          from its first byte to its end              --header-timeout
//   keep-alive    idle between requests                       --keep-alive
//   body          idle while reading a request body           --body-timeout
//   write         no byte taken by the client while writing   --write-timeout
//   linger        reading what a client still sends after     2 s
//                 the connection's last response (close)
//   drain         after TERM, an idle connection's last call   --keep-alive
//
// The connection sets its deadline as it moves between waits; the Server's
// reaper (every 200 ms) closes a connection whose deadline passed, which
// cancels its pending operation. The one wait outside the loop: an inline
// app's write that must block (Outbox::send_blocking) polls with the write
// timeout itself. A worker-wide bound (--graceful-timeout) is the Server's.
#pragma once

#include <algorithm>
#include <chrono>

namespace greenfork::worker {

struct EngineConfig;

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kLinger{2};

  explicit Deadline(const EngineConfig& config) : config_(config) {}

  Clock::time_point at() const { return at_; }
  bool passed(Clock::time_point now) const { return at_ < now; }

  // No byte of the next request yet: the first one gets the head's time.
  void waiting_for_request(bool first, Clock::time_point now);
  // The first byte of a head arrived.
  void reading_head();
  void reading_body();
  // The socket is full: counts from the last byte the client took.
  void writing(bool progressed);
  void lingering();
  // Waiting on the app: no client deadline.
  void clear() { at_ = Clock::time_point::max(); }
  void shorten(Clock::time_point t) { at_ = std::min(at_, t); }

 private:
  const EngineConfig& config_;
  Clock::time_point at_ = Clock::time_point::max();
};

}  // namespace greenfork::worker
