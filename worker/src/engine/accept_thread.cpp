#include "engine/accept_thread.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace greenfork::worker {

namespace {

constexpr uint64_t kWakeTag = UINT64_MAX;
constexpr int kMaxEvents = 8;
constexpr int kLookAnywayMs = 200;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

AcceptThread::AcceptThread(const std::vector<int>& listener_fds) : fds_(listener_fds) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    error_ = errno_text("accept set");
    return;
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    error_ = errno_text("accept set: eventfd");
    return;
  }
  in_set_.assign(fds_.size(), false);
  for (size_t i = 0; i < fds_.size(); ++i) {
    // accept4() must not block when another worker took the client first.
    const int flags = fcntl(fds_[i], F_GETFL);
    if (flags < 0 || fcntl(fds_[i], F_SETFL, flags | O_NONBLOCK) != 0) {
      error_ = errno_text("O_NONBLOCK on listening fd " + std::to_string(fds_[i]));
      return;
    }
    if (!add(i)) {
      error_ = errno_text("accept set: listening fd " + std::to_string(fds_[i]));
      return;
    }
  }
}

bool AcceptThread::add(size_t index) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = index;
  in_set_[index] = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fds_[index], &ev) == 0;
  return in_set_[index];
}

void AcceptThread::rotate(size_t index) {
  // The kernel wakes the first waiter in the listening socket's queue, and
  // an exclusive waiter joins it at the end: leaving and joining again
  // after each client takes turns with the other workers' waiting threads
  // instead of taking every client while they wait too.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fds_[index], nullptr) == 0) in_set_[index] = false;
  add(index);
}

AcceptThread::~AcceptThread() {
  stop();
  if (thread_.joinable()) thread_.join();
  // Closing the set drops its entries; the listening sockets stay open.
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void AcceptThread::start(std::function<void(const Accepted&)> on_accept,
                         std::function<void(const std::string&)> on_error,
                         std::function<void()> on_exit) {
  on_accept_ = std::move(on_accept);
  on_error_ = std::move(on_error);
  on_exit_ = std::move(on_exit);
  thread_ = std::thread([this] { run(); });
}

void AcceptThread::permit() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    permit_ = true;
  }
  cv_.notify_one();
}

void AcceptThread::stop() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_one();
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void AcceptThread::run() {
  epoll_event events[kMaxEvents];
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return permit_ || stop_; });
      if (stop_) break;
    }
    for (size_t i = 0; i < fds_.size(); ++i) {
      if (!in_set_[i] && !add(i)) {
        on_error_(errno_text("accept set: listening fd " + std::to_string(fds_[i])));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    // Only here, holding a permit, is this worker one of the waiters the
    // kernel picks from. The timeout is a safety net: a client whose
    // wake-up went to a worker killed before it accepted waits for the
    // next wake-up, which the next client would bring.
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, kLookAnywayMs);
    if (n < 0 && errno != EINTR) {
      on_error_(errno_text("epoll_wait"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::vector<size_t> ready;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 < fds_.size()) ready.push_back(static_cast<size_t>(events[i].data.u64));
    }
    std::unique_lock<std::mutex> lock(mu_);
    const bool stopping = stop_;
    // Stopping: no new client, except the one this thread was woken for
    // (the kernel woke no other worker for it); it is served with
    // Connection: close.
    if (stopping && ready.empty()) break;
    if (n == 0) {
      for (size_t i = 0; i < fds_.size(); ++i) ready.push_back(i);
    }
    std::string error;
    for (size_t index : ready) {
      Accepted a;
      a.listener = index;
      a.peer_len = sizeof a.peer;
      a.fd = ::accept4(fds_[index], reinterpret_cast<sockaddr*>(&a.peer), &a.peer_len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (a.fd >= 0) {
        permit_ = false;
        lock.unlock();
        on_accept_(a);
        rotate(index);
        break;
      }
      // EAGAIN: another worker took it. ECONNABORTED: the client left.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        error = errno_text("accept");
      }
    }
    if (lock.owns_lock()) lock.unlock();
    if (stopping) break;
    if (!error.empty()) {
      on_error_(error);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // Out of the listening sockets' wait queues now, not at exit.
  ::close(epoll_fd_);
  epoll_fd_ = -1;
  on_exit_();
}

}  // namespace greenfork::worker
