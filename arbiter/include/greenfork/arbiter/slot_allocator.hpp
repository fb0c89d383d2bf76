// Worker slots (ARBITER_WORKER_ID): unique across all pools, starting at 1,
// always the lowest free number, so a respawn takes the slot its
// predecessor freed.
#pragma once

#include <set>

namespace greenfork::arbiter {

class SlotAllocator {
 public:
  unsigned acquire();
  void release(unsigned slot) { used_.erase(slot); }
  bool in_use(unsigned slot) const { return used_.count(slot) != 0; }

 private:
  std::set<unsigned> used_;
};

}  // namespace greenfork::arbiter
