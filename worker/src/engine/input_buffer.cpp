#include "engine/input_buffer.hpp"

#include <cstring>

namespace greenfork::worker {

void InputBuffer::grow(size_t cap) {
  auto bigger = std::make_unique<char[]>(cap);
  if (end_ > pos_) std::memcpy(bigger.get(), buf_.get() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
  buf_ = std::move(bigger);
  cap_ = cap;
}

char* InputBuffer::space(size_t& len) {
  if (pos_ == end_) pos_ = end_ = 0;
  if (!buf_) {
    cap_ = kInitial;
    buf_ = std::make_unique<char[]>(cap_);
  } else if (end_ == cap_) {
    if (pos_ > 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    // Still full: the parser left bytes it needs more after.
    if (end_ == cap_) grow(cap_ * 2);
  }
  len = cap_ - end_;
  return buf_.get() + end_;
}

void InputBuffer::commit(size_t n) {
  end_ += n;
  // A full read: the client sends fast, let the next read take more.
  if (end_ == cap_ && cap_ < kMax) grow(cap_ * 2);
}

}  // namespace greenfork::worker
