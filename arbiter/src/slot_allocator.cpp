#include "greenfork/arbiter/slot_allocator.hpp"

namespace greenfork::arbiter {

unsigned SlotAllocator::acquire() {
  unsigned slot = 1;
  for (unsigned used : used_) {  // ordered: the first gap is the lowest free
    if (used != slot) break;
    ++slot;
  }
  used_.insert(slot);
  return slot;
}

}  // namespace greenfork::arbiter
