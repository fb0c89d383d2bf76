// FrameworkState: what the Python driver of a framework-native worker
// (-k tornado, -k aiohttp; driver.py) reports to gworker through the
// builtin module _gworker_fw, and what gworker's C++ threads read from it:
// the loop's liveness tick, the requests in flight and served, the counters
// arbiterd gets with every beat.
//
// The driver calls, on its event loop thread (GIL held):
//   _gworker_fw.tick()                   the loop is alive (every 0.2 s)
//   token = _gworker_fw.begin()          a request reached the app
//   _gworker_fw.end(token)               ... and left it (or its client did)
//   n = _gworker_fw.served(remote, method, target, http_minor, status,
//         body_bytes, request_headers, response_headers, seconds)
//                                        one access log line; n served so far
//   _gworker_fw.ready()                  serving: READY=1, beats begin
//   _gworker_fw.stopping()               leaving on its own (--max-requests)
//   _gworker_fw.signal_fd()              a pipe: b"T" on TERM
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "engine/server.hpp"

namespace greenfork::worker {

class AccessLog;

struct FrameworkState {
  using Clock = std::chrono::steady_clock;

  AccessLog* access_log = nullptr;
  int signal_read_fd = -1;
  std::function<void()> on_ready;  // sends READY and logs the boot line

  std::atomic<int64_t> last_tick_ns{0};  // Clock, since epoch
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};

  // Stats as a beat sends them: in flight from begin/end, served and the
  // counters from served(). request_seconds integrates in-flight over time.
  EngineStats snapshot();

  std::mutex mu;
  std::map<uint64_t, Clock::time_point> in_flight;
  uint64_t next_token = 1;
  uint64_t served = 0;
  RequestCounters counters;
  double request_seconds = 0;
  Clock::time_point integrated_at = Clock::now();
};

// GIL held: creates _gworker_fw for `state` and puts it in sys.modules.
bool install_framework_module(FrameworkState* state);

}  // namespace greenfork::worker
