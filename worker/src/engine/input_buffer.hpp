// InputBuffer: the bytes a connection has read and not parsed yet. It
// starts small, grows by doubling while the client sends faster than the
// parser consumes (to kMax). (Not given back while idle: the idle read
// waits on it.)
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace greenfork::worker {

class InputBuffer {
 public:
  static constexpr size_t kInitial = 8 * 1024;
  static constexpr size_t kMax = 64 * 1024;

  std::string_view unread() const { return {buf_.get() + pos_, end_ - pos_}; }
  bool empty() const { return pos_ == end_; }
  void consume(size_t n) { pos_ += n; }
  // Room for the next read (allocating or compacting as needed).
  char* space(size_t& len);
  // `n` bytes were read into space().
  void commit(size_t n);

 private:
  void grow(size_t cap);

  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t pos_ = 0;
  size_t end_ = 0;
};

}  // namespace greenfork::worker
