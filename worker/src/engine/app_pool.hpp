// AppPool: the app threads (1 for -k sync, N for gthread). The I/O thread
// submits an Exchange whose head is complete; a free app thread runs the
// application on it. Threads call Application::thread_started/stopping.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/exchange.hpp"

namespace greenfork::worker {

class AppPool {
 public:
  AppPool(Application& app, unsigned threads);
  ~AppPool();
  AppPool(const AppPool&) = delete;
  AppPool& operator=(const AppPool&) = delete;

  void submit(Exchange* exchange);
  // Lets queued work finish, then joins the threads.
  void stop();

 private:
  void run();

  Application& app_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Exchange*> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace greenfork::worker
