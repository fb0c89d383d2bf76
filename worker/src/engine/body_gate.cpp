#include "engine/body_gate.hpp"

#include <algorithm>

namespace greenfork::worker {

void BodyGate::Pass::enter(BodyGate& gate, uint64_t bytes, Event& wake) {
  leave();
  gate_ = &gate;
  wake_ = &wake;
  bytes_ = bytes;
  // First come, first served: nobody overtakes a waiting body.
  if (gate.queue_.empty() && gate.fits(bytes)) {
    gate.held_ += bytes;
    admitted_ = true;
    return;
  }
  gate.queue_.push_back(this);
}

void BodyGate::Pass::leave() {
  if (gate_ == nullptr) return;
  BodyGate& gate = *gate_;
  gate_ = nullptr;
  if (admitted_) {
    admitted_ = false;
    gate.held_ -= bytes_;
  } else {
    gate.queue_.erase(std::remove(gate.queue_.begin(), gate.queue_.end(), this), gate.queue_.end());
  }
  gate.admit();
}

void BodyGate::admit() {
  while (!queue_.empty() && fits(queue_.front()->bytes_)) {
    Pass* next = queue_.front();
    queue_.pop_front();
    held_ += next->bytes_;
    next->admitted_ = true;
    next->wake_->set();
  }
}

}  // namespace greenfork::worker
