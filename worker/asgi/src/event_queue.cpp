#include "greenfork/asgi/event_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace greenfork::asgi {

Status EventQueue::open() {
  efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd_) return Status::from_errno("eventfd");
  return {};
}

void EventQueue::push(const LoopEvent& event) {
  bool first = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    first = events_.empty();
    events_.push_back(event);
  }
  if (!first) return;  // the batch's first event already woke the loop
  const uint64_t one = 1;
  while (::write(efd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void EventQueue::take(std::vector<LoopEvent>& out) {
  out.clear();
  // Cleared before the swap: a push after the swap finds the queue empty
  // and writes again.
  uint64_t count = 0;
  while (::read(efd_.get(), &count, sizeof count) < 0 && errno == EINTR) {
  }
  const std::lock_guard<std::mutex> lock(mu_);
  out.swap(events_);
}

}  // namespace greenfork::asgi
