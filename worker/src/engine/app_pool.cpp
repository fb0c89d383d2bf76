#include "engine/app_pool.hpp"

namespace greenfork::worker {

AppPool::AppPool(Application& app, unsigned threads) : app_(app) {
  sleepers_.reserve(threads);
  idle_.reserve(threads);
  threads_.reserve(threads);
  lookers_ = threads;  // a new thread looks at the queue before it sleeps
  for (unsigned i = 0; i < threads; ++i) {
    sleepers_.push_back(std::make_unique<Sleeper>());
    Sleeper* me = sleepers_.back().get();
    threads_.emplace_back([this, me] { run(*me); });
  }
}

AppPool::~AppPool() { stop(); }

AppPool::Sleeper* AppPool::wake_one() {
  if (idle_.empty()) return nullptr;
  Sleeper* s = idle_.back();
  idle_.pop_back();
  s->woken = true;
  ++lookers_;
  return s;
}

void AppPool::submit(Exchange* exchange) {
  Sleeper* woken = nullptr;
  bool defer = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(exchange);
    if (lookers_ == 0 && !wake_deferred_) {
      if (defer_) {
        defer = wake_deferred_ = true;
      } else {
        woken = wake_one();
      }
    }
  }
  if (woken != nullptr) woken->cv.notify_one();
  if (defer) defer_([](AppPool* pool) { pool->deferred_wake(); });
}

void AppPool::deferred_wake() {
  Sleeper* woken = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_deferred_ = false;
    if (!queue_.empty() && lookers_ == 0) woken = wake_one();
  }
  if (woken != nullptr) woken->cv.notify_one();
}

void AppPool::stop() {
  std::vector<Sleeper*> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    while (Sleeper* s = wake_one()) woken.push_back(s);
  }
  for (Sleeper* s : woken) s->cv.notify_one();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void AppPool::run(Sleeper& me) {
  app_.thread_started();
  bool turn = false;  // this thread holds its turn (take_turn() .. end_turn())
  std::unique_lock<std::mutex> lock(mu_);
  // Here this thread is always counted in lookers_.
  for (;;) {
    if (!queue_.empty()) {
      if (!turn) {
        // Wait for the turn without the lock: the holder may be queueing
        // work's completion or running the app meanwhile.
        lock.unlock();
        app_.take_turn();
        turn = true;
        lock.lock();
        continue;  // another thread may have taken the request meanwhile
      }
      Exchange* exchange = queue_.front();
      queue_.pop_front();
      --lookers_;
      Sleeper* next = !queue_.empty() && lookers_ == 0 ? wake_one() : nullptr;
      lock.unlock();
      if (next != nullptr) next->cv.notify_one();
      exchange->run(app_);  // the turn is kept across it
      lock.lock();
      ++lookers_;
      continue;
    }
    if (turn) {
      // Still a looker while the turn is given up: work queued meanwhile
      // finds this thread coming back.
      lock.unlock();
      app_.end_turn();
      turn = false;
      lock.lock();
      continue;
    }
    if (stopping_) break;
    --lookers_;
    me.woken = false;
    idle_.push_back(&me);
    me.cv.wait(lock, [&me] { return me.woken; });  // wake_one() counted it again
  }
  --lookers_;
  lock.unlock();
  app_.thread_stopping();
}

}  // namespace greenfork::worker
