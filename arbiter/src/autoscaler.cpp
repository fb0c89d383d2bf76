#include "greenfork/arbiter/autoscaler.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace greenfork::arbiter {

unsigned Autoscaler::clamp(unsigned workers) const {
  if (!config_.enabled()) return workers;
  return std::clamp(workers, config_.min, config_.max);
}

std::optional<AutoscaleDecision> Autoscaler::decide(unsigned current, const PoolLoad& load, MonoTime now) {
  if (!config_.enabled()) return std::nullopt;
  if (current < config_.min || current > config_.max) {
    reset();
    unsigned target = clamp(current);
    return AutoscaleDecision{target, fmt::format("{} worker(s) is outside autoscale {}:{}", current,
                                                 config_.min, config_.max)};
  }
  const double capacity = double(load.ready) * std::max(1u, load.threads_per_worker);
  const std::string load_text =
      fmt::format("{:.1f} request(s) in flight on {} app thread(s)", load.in_flight, capacity);
  // Busy: (nearly) no READY worker has an idle app thread.
  const bool busy = load.ready > 0 && load.in_flight >= kBusyShare * capacity;
  if (busy) {
    idle_since_.reset();
    if (!busy_since_) busy_since_ = now;
    // The previous step must be up before the next one is judged.
    if (current >= config_.max || load.starting > 0) return std::nullopt;
    Seconds busy_for = now - *busy_since_;
    if (busy_for < kBusyFor) return std::nullopt;
    busy_since_ = now;
    return AutoscaleDecision{current + 1, fmt::format("busy: {} for {:.1f}s", load_text, busy_for.count())};
  }
  busy_since_.reset();
  // Low use: one worker fewer would be at most half busy.
  const double smaller = double(current > 0 ? current - 1 : 0) * std::max(1u, load.threads_per_worker);
  const bool low = current > config_.min && load.starting == 0 && load.in_flight * 2 <= smaller;
  if (!low) {
    idle_since_.reset();
    return std::nullopt;
  }
  if (!idle_since_) idle_since_ = now;
  Seconds idle_for = now - *idle_since_;
  if (idle_for < Seconds(config_.cooldown_seconds)) return std::nullopt;
  idle_since_ = now;  // the next worker waits a whole cooldown again
  return AutoscaleDecision{current - 1, fmt::format("low use: {} for {:.1f}s (cooldown {:g}s)", load_text,
                                                    idle_for.count(), config_.cooldown_seconds)};
}

void LoadMeter::sample(MonoTime now, double request_seconds) {
  if (!mark_at_ || request_seconds < mark_) {  // first, or a counter that went back
    mark_at_ = now;
    mark_ = request_seconds;
    return;
  }
  const Seconds span = now - *mark_at_;
  if (span < kWindow) return;
  average_ = (request_seconds - mark_) / span.count();
  mark_at_ = now;
  mark_ = request_seconds;
}

unsigned app_threads_of(const std::vector<std::string>& command) {
  unsigned threads = 1;
  auto number = [](const std::string& text) -> unsigned {
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) return 0;
    return static_cast<unsigned>(std::stoul(text));
  };
  for (std::size_t i = 0; i < command.size(); ++i) {
    unsigned n = 0;
    if (command[i] == "--threads" && i + 1 < command.size()) n = number(command[i + 1]);
    else if (command[i].rfind("--threads=", 0) == 0) n = number(command[i].substr(10));
    if (n > 0) threads = n;
  }
  return threads;
}

}  // namespace greenfork::arbiter
