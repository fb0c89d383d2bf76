#include "engine/body_gate.hpp"

#include <malloc.h>

#include <algorithm>

namespace greenfork::worker {

namespace {

// glibc's largest M_MMAP_THRESHOLD on 64-bit systems (HEAP_MAX / 2).
constexpr uint64_t kMmapMax = 32 * 1024 * 1024;

}  // namespace

BodyGate::BodyGate(uint64_t budget) : budget_(budget) {
  // Megabyte bodies (and the app's copies of them) come and go at the
  // request rate. By default glibc gives each one back to the kernel on
  // free() (munmap, or a heap trimmed past its top), and the next one
  // costs a page fault and a zeroed page per 4 KiB: under a 1 MiB echo
  // that was three quarters of the worker's system time. Kept in malloc's
  // free lists instead, up to the read-ahead budget and a bit; the
  // reaper's malloc_trim() still gives them back (Server::memory_freed).
  const uint64_t keep = std::min<uint64_t>(budget + 8 * 1024 * 1024, 256 * 1024 * 1024);
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapMax));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(keep));
}

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
