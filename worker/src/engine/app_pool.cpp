#include "engine/app_pool.hpp"

namespace greenfork::worker {

AppPool::AppPool(Application& app, unsigned threads) : app_(app) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

AppPool::~AppPool() { stop(); }

void AppPool::submit(Exchange* exchange) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(exchange);
  }
  cv_.notify_one();
}

void AppPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void AppPool::run() {
  app_.thread_started();
  for (;;) {
    Exchange* exchange = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping and nothing left
      exchange = queue_.front();
      queue_.pop_front();
    }
    exchange->run(app_);
  }
  app_.thread_stopping();
}

}  // namespace greenfork::worker
