#include "engine/outbox.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace greenfork::worker {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd takes more bytes; false once `deadline` passes.
bool wait_writable(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (n > 0) return (p.revents & (POLLERR | POLLNVAL)) == 0;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

bool write_blocking(int fd, std::chrono::milliseconds idle_limit, uint64_t left,
                    const std::function<ssize_t(uint64_t)>& step) {
  Clock::time_point deadline = Clock::now() + idle_limit;
  while (left > 0) {
    const ssize_t n = step(left);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      deadline = Clock::now() + idle_limit;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_writable(fd, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

void Outbox::append(std::string& bytes) {
  if (empty()) {
    data_.swap(bytes);
    pos_ = 0;
    bytes.clear();
    return;
  }
  append(std::string_view(bytes));
  bytes.clear();
}

void Outbox::append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (pos_ > 0 && pos_ >= data_.size() / 2) {
    data_.erase(0, pos_);  // keep the unsent tail at the front
    pos_ = 0;
  }
  data_.append(bytes);
}

Outbox::Send Outbox::send(const Transport& to, bool& progressed) {
  while (!empty()) {
    const ssize_t n = to.send(data_.data() + pos_, size());
    if (n > 0) {
      pos_ += static_cast<size_t>(n);
      progressed = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Send::kBlocked;
    return Send::kFailed;
  }
  data_.clear();
  pos_ = 0;
  return Send::kDone;
}

bool Outbox::send_blocking(const Transport& to, size_t limit, std::chrono::milliseconds idle_limit) {
  if (size() <= limit) return true;
  const bool ok = write_blocking(to.fd, idle_limit, size() - limit, [&](uint64_t left) {
    // Offers all it holds, not just what must go: a TLS write that blocked
    // must be retried with at least as many bytes.
    const ssize_t n = to.send(data_.data() + pos_, size());
    if (n <= 0) return n;
    pos_ += static_cast<size_t>(n);
    return static_cast<ssize_t>(std::min<uint64_t>(static_cast<uint64_t>(n), left));
  });
  if (empty()) {
    data_.clear();
    pos_ = 0;
  }
  return ok;
}

bool Outbox::release_memory(size_t keep) {
  if (!empty() || data_.capacity() <= keep) return false;
  std::string().swap(data_);
  pos_ = 0;
  return true;
}

}  // namespace greenfork::worker
