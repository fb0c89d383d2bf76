// BodyGate: how much request-body memory a worker's connections may hold
// read ahead at once. A connection about to buffer a large body takes a
// share of the budget first (its Content-Length, up to the memory limit)
// and gives it back once the app is done with the body. Past the budget it
// waits, in arrival order, and its body waits in the kernel's socket
// buffer (and the client's): with 64 keep-alive clients each POSTing
// 1 MiB to a sync worker, only a few bodies are in memory at a time
// instead of all of them, while the app thread is never idle for want of a
// whole body.
//
// Stalled senders: a holder whose client has sent nothing for a second
// while others wait gives its share up (Connection::yield_stalled_body());
// its bytes so far stay in memory and the rest is read without a share, so
// a stalled upload delays the next large body by about a second, never
// until its body timeout. Requests with small bodies (or none) never wait
// here. Gunicorn's sync worker waits for any one slow upload with
// everything else.
//
//   BodyGate::Pass pass(gate, bytes, wake);
//   while (!pass.admitted()) co_await wake.wait();   // I/O thread only
//   ... read the body, run the app ...
//   pass.leave();   // (or the destructor)
#pragma once

#include <cstdint>
#include <deque>

#include "engine/event.hpp"

namespace greenfork::worker {

class BodyGate {
 public:
  // Bodies at most this big never wait.
  static constexpr uint64_t kSmallBody = 64 * 1024;

  // A worker's budget: room for two bodies per app thread, 4 MiB at least
  // (a body past the memory limit is spilled, so counts as the limit).
  static uint64_t budget_for(uint64_t memory_limit, unsigned app_threads) {
    const uint64_t per_thread = 2 * memory_limit * (app_threads == 0 ? 1 : app_threads);
    return per_thread > kMinBudget ? per_thread : kMinBudget;
  }
  static constexpr uint64_t kMinBudget = 4 * 1024 * 1024;

  // Also sets malloc's policy for such bodies (process-wide, see .cpp).
  explicit BodyGate(uint64_t budget);
  BodyGate(const BodyGate&) = delete;
  BodyGate& operator=(const BodyGate&) = delete;

  // A share of the budget, held from construction (admitted at once, or
  // queued: `wake` is set when it is admitted) until leave().
  class Pass {
   public:
    Pass() = default;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() { leave(); }
    // Asks for `bytes` (leaving a share held before).
    void enter(BodyGate& gate, uint64_t bytes, Event& wake);
    bool admitted() const { return admitted_; }
    void leave();

   private:
    friend class BodyGate;
    BodyGate* gate_ = nullptr;
    Event* wake_ = nullptr;
    uint64_t bytes_ = 0;
    bool admitted_ = false;
  };

  uint64_t budget() const { return budget_; }
  uint64_t held() const { return held_; }
  size_t waiting() const { return queue_.size(); }

 private:
  // Admits the queue's head while the budget has room for it (always one
  // when nothing is held: a body bigger than the budget still goes).
  void admit();
  bool fits(uint64_t bytes) const { return held_ == 0 || held_ + bytes <= budget_; }

  uint64_t budget_;
  uint64_t held_ = 0;
  std::deque<Pass*> queue_;
};

}  // namespace greenfork::worker
