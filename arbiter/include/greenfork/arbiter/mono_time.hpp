// arbiterd's time: a monotonic clock read through ProcessOps::now() (a
// fake one in tests), durations in seconds with fractions. A moment that
// has not happened is an empty std::optional, never a sentinel number.
//
//   MonoTime deadline = ops.now() + Seconds(config.graceful_timeout_seconds);
//   if (ops.now() >= deadline) ...
#pragma once

#include <chrono>

namespace greenfork::arbiter {

using Seconds = std::chrono::duration<double>;
using MonoTime = std::chrono::time_point<std::chrono::steady_clock, Seconds>;

}  // namespace greenfork::arbiter
