#include "greenfork/arbiter/shutdown.hpp"

namespace greenfork::arbiter {

Shutdown::Begin Shutdown::begin(bool graceful, Seconds graceful_wait, MonoTime now) {
  if (stopping_ && (graceful || !graceful_)) return Begin::kIgnored;
  Begin result = stopping_ ? Begin::kEscalated : Begin::kFirst;
  stopping_ = true;
  graceful_ = graceful;
  deadline_ = now + (graceful ? graceful_wait : kFastStopWait);
  return result;
}

Shutdown::Step Shutdown::check(bool workers_left, MonoTime now) {
  if (finished_) return Step::kDone;
  if (workers_left && now >= deadline_ && !killed_all_) {
    killed_all_ = true;
    give_up_at_ = now + kAfterKillWait;
    return Step::kKillAll;
  }
  if (workers_left && !(killed_all_ && now >= give_up_at_)) return Step::kWait;
  finished_ = true;
  return Step::kFinish;
}

}  // namespace greenfork::arbiter
