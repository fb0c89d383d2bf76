// Outbox: a connection's response bytes on their way to the socket, owned
// by the I/O thread. An app hands output over and goes on; the loop writes
// it as the client takes it. The bound is what a client that stops reading
// can make an app wait for: handing over more while the outbox holds over
// kBound bytes waits (an app thread until the loop acks, an inline app in
// a blocking poll), a single hand-over of any size is taken whole (the app
// already holds those bytes).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/transport.hpp"

namespace greenfork::worker {

class Outbox {
 public:
  static constexpr size_t kBound = 256 * 1024;

  enum class Send { kDone, kBlocked, kFailed };

  bool empty() const { return pos_ == data_.size(); }
  size_t size() const { return data_.size() - pos_; }
  // Takes `bytes` (left empty; without a copy when the outbox is empty).
  void append(std::string& bytes);
  void append(std::string_view bytes);
  // Non-blocking sends until done, the socket is full or fails.
  // `progressed` is set when any byte went out.
  Send send(const Transport& to, bool& progressed);
  // Blocking sends until at most `limit` bytes are left; false on an
  // error or when the socket takes nothing for `idle_limit` (the write
  // timeout). For an app running on the I/O thread only.
  bool send_blocking(const Transport& to, size_t limit, std::chrono::milliseconds idle_limit);
  // Gives back memory grown past `keep` bytes when empty; true when it did.
  bool release_memory(size_t keep);

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Blocking output for an app running on the I/O thread: calls step(bytes
// left) (one non-blocking send: bytes written, or -1 with errno) until
// `left` bytes are out; false on an error or when the socket takes nothing
// for `idle_limit`.
bool write_blocking(int fd, std::chrono::milliseconds idle_limit, uint64_t left,
                    const std::function<ssize_t(uint64_t)>& step);

}  // namespace greenfork::worker
