// AcceptThread: takes clients off the listening sockets for one worker,
// one at a time, so that the kernel spreads them over the workers.
//
// Its own epoll set holds every listening socket with EPOLLIN |
// EPOLLEXCLUSIVE: for each new client the kernel wakes only one of the
// threads blocked in epoll_wait on such a set (the first waiting one). The
// thread blocks there only while it holds a permit, which the I/O thread
// gives back once it has taken the last client over: while a worker's I/O
// thread is busy, its accept thread is not waiting and the next client goes
// to another worker (nginx's EPOLLEXCLUSIVE with multi_accept off).
// EPOLLEXCLUSIVE needs the waiter on the set itself: an epoll set watched
// from another epoll set (Asio's reactor) wakes every worker.
//
//   AcceptThread t(fds, [](Accepted a) { /* post to the I/O thread */ },
//                  [] { /* the thread ended */ });
//   t.permit();   // (I/O thread) accept one more client
//   t.stop();     // thread-safe: accept no more clients; on_exit follows
#pragma once

#include <sys/socket.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace greenfork::worker {

struct Accepted {
  int fd = -1;
  size_t listener = 0;  // index into the fds given to the constructor
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
};

class AcceptThread {
 public:
  // Sets O_NONBLOCK on the listening sockets (shared with arbiterd and the
  // other workers, as Asio's acceptor did). On failure error() says why.
  explicit AcceptThread(const std::vector<int>& listener_fds);
  ~AcceptThread();
  AcceptThread(const AcceptThread&) = delete;
  AcceptThread& operator=(const AcceptThread&) = delete;

  const std::string& error() const { return error_; }
  // Starts the thread. on_accept and on_error (out of file descriptors...;
  // the thread waits 100 ms after it) run on the accept thread; on_exit
  // runs there last, after every on_accept: only then may the listening
  // sockets be closed.
  void start(std::function<void(const Accepted&)> on_accept,
             std::function<void(const std::string&)> on_error, std::function<void()> on_exit);
  // Lets the thread accept one more client.
  void permit();
  // The thread ends; it accepts at most the one client it was woken for
  // (no other worker was), which on_accept still gets.
  void stop();

 private:
  void run();
  bool add(size_t index);
  void rotate(size_t index);

  std::vector<int> fds_;
  std::vector<bool> in_set_;  // fds_[i] is in the epoll set (accept thread's after start())
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop() wakes epoll_wait
  std::string error_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool permit_ = false;
  bool stop_ = false;
  std::function<void(const Accepted&)> on_accept_;
  std::function<void(const std::string&)> on_error_;
  std::function<void()> on_exit_;
  std::thread thread_;
};

}  // namespace greenfork::worker
