// arbiterd's stop (TERM graceful, INT/QUIT fast, or a halt): whether it is
// stopping, the deadline for the workers, when to SIGKILL the rest and
// when to give up waiting. No I/O: the supervisor signals the workers and
// ends the loop on the verdicts.
//
//   Shutdown shutdown;
//   if (shutdown.begin(/*graceful=*/true, Seconds(30), now) == Shutdown::Begin::kFirst) ...
//   switch (shutdown.check(/*workers_left=*/true, now)) { case Shutdown::Step::kKillAll: ... }
#pragma once

#include "greenfork/arbiter/mono_time.hpp"

namespace greenfork::arbiter {

class Shutdown {
 public:
  static constexpr Seconds kFastStopWait{2.0};   // INT/QUIT: QUIT, then KILL after this
  static constexpr Seconds kAfterKillWait{3.0};  // after KILL, give up waiting for exits

  enum class Begin {
    kIgnored,    // already stopping, at least as fast
    kFirst,      // the stop starts now
    kEscalated,  // a graceful stop becomes fast
  };
  // A graceful stop waits `graceful_wait` for the workers, a fast one
  // kFastStopWait; only a fast stop may override a graceful one.
  Begin begin(bool graceful, Seconds graceful_wait, MonoTime now);

  enum class Step {
    kWait,     // workers are still draining, within the deadline
    kKillAll,  // the deadline passed: SIGKILL every worker left
    kFinish,   // none left (or KILL went unanswered): end the loop, once
    kDone,     // already finished
  };
  Step check(bool workers_left, MonoTime now);

  bool stopping() const { return stopping_; }
  bool finished() const { return finished_; }
  // When the workers must be gone (graceful: graceful_timeout).
  MonoTime deadline() const { return deadline_; }

 private:
  bool stopping_ = false;
  bool graceful_ = true;
  MonoTime deadline_{};
  bool killed_all_ = false;
  MonoTime give_up_at_{};
  bool finished_ = false;
};

}  // namespace greenfork::arbiter
