// When a pool with `autoscale = { min, max, cooldown }` should grow or
// shrink, from its workers' load (the in-flight requests their beats
// report against their app threads). A decision at a time, one worker at a
// time, never outside [min, max]. No I/O, no clock of its own: the
// supervisor calls decide() on every tick with the time, and acts.
//
//   Autoscaler scaler(pool.config.autoscale);
//   PoolLoad load{.ready = 2, .starting = 0, .in_flight = 9, .threads_per_worker = 4};
//   if (auto d = scaler.decide(pool.desired, load, now)) {  // each tick
//     pool.desired = d->target;   // 3: "busy: 9 request(s) in flight on 8 app thread(s) for 1.5s"
//   }
//
// Grow: the READY workers' app threads are busy (in_flight >= kBusyShare
// of them) for kBusyFor, and no worker is still starting (the last step
// must come up before the next is judged). Shrink: for `cooldown` seconds
// the load would fit in one worker fewer at most half busy; then one
// worker goes (the supervisor stops the oldest) and the cooldown starts
// again. A manual scale (gctl scale, TTIN/TTOU) or a reload calls reset().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

// A worker's average requests in flight, from the request-seconds counter
// its beats carry (contract::kNotifyRequestSeconds): the counter's change
// over at least kWindow divided by the time it took.
class LoadMeter {
 public:
  static constexpr Seconds kWindow{1.0};
  void sample(MonoTime now, double request_seconds);
  std::optional<double> average() const { return average_; }

 private:
  std::optional<MonoTime> mark_at_;
  double mark_ = 0;
  std::optional<double> average_;
};

struct PoolLoad {
  unsigned ready = 0;               // active READY workers
  unsigned starting = 0;            // active workers not READY yet
  // Requests in flight over the READY workers: each worker's average
  // (LoadMeter) when its beats carry it, else its last beat's count.
  double in_flight = 0;
  unsigned threads_per_worker = 1;  // app threads each worker runs requests on
};

struct AutoscaleDecision {
  unsigned target = 0;
  std::string reason;  // for the log line and the event: why
};

class Autoscaler {
 public:
  // Load must last this long before the pool grows by one.
  static constexpr Seconds kBusyFor{1.5};
  // Busy: this share of the app threads has a request on average.
  static constexpr double kBusyShare = 0.8;

  explicit Autoscaler(AutoscaleConfig config) : config_(config) {}

  const AutoscaleConfig& config() const { return config_; }
  // The count a pool starts with: `workers` brought within [min, max].
  unsigned clamp(unsigned workers) const;
  // nullopt: keep `current`. Otherwise the new target (current +/- 1, or
  // the nearest bound when current is outside them) and why.
  std::optional<AutoscaleDecision> decide(unsigned current, const PoolLoad& load, MonoTime now);
  // Forgets how long the pool has been busy or idle (after a manual scale
  // or a reload: the new count gets a full cooldown).
  void reset() {
    busy_since_.reset();
    idle_since_.reset();
  }

 private:
  AutoscaleConfig config_;
  std::optional<MonoTime> busy_since_;
  std::optional<MonoTime> idle_since_;
};

// The app threads a worker of `command` runs requests on: gworker's
// `--threads N` (or `--threads=N`), else 1 (a sync worker, or a program
// whose concurrency arbiterd cannot know).
unsigned app_threads_of(const std::vector<std::string>& command);

}  // namespace greenfork::arbiter
