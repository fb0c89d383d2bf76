#include "engine/app_pool.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace greenfork::worker {

void AppPool::Sleeper::wait() {
  int s = state.load(std::memory_order_acquire);
  for (;;) {
    if (s == 1) {
      if (state.compare_exchange_weak(s, 0, std::memory_order_acquire)) return;
      continue;
    }
    if (s == 0 && !state.compare_exchange_weak(s, 2, std::memory_order_acquire)) continue;
    ::syscall(SYS_futex, &state, FUTEX_WAIT_PRIVATE, 2, nullptr, nullptr, 0);
    s = state.load(std::memory_order_acquire);
  }
}

void AppPool::Sleeper::wake() {
  if (state.exchange(1, std::memory_order_release) == 2) {
    ::syscall(SYS_futex, &state, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
}

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
  ++lookers_;
  return s;
}

void AppPool::submit(Exchange* exchange) {
  Sleeper* woken = nullptr;
  bool defer = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(exchange);
    if (lookers_ == 0 && !wake_posted_) {
      if (defer_) {
        defer = wake_posted_ = true;
      } else {
        woken = wake_one();
      }
    }
  }
  if (woken != nullptr) woken->wake();
  if (defer) defer_();
}

void AppPool::wake_deferred() {
  Sleeper* woken = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_posted_ = false;
    if (!queue_.empty() && lookers_ == 0) woken = wake_one();
  }
  if (woken != nullptr) woken->wake();
}

void AppPool::stop() {
  std::vector<Sleeper*> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    while (Sleeper* s = wake_one()) woken.push_back(s);
  }
  for (Sleeper* s : woken) s->wake();
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
      if (next != nullptr) next->wake();
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
    idle_.push_back(&me);
    lock.unlock();
    me.wait();  // wake_one() counted this thread as a looker again
    lock.lock();
  }
  --lookers_;
  lock.unlock();
  app_.thread_stopping();
}

}  // namespace greenfork::worker
