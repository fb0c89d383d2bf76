// AppPool: the app threads (1 for -k sync, N for gthread). The I/O thread
// submits an Exchange whose head is complete; a free app thread runs the
// application on it. Threads call Application::thread_started/stopping.
//
// Hand-off (cheap for back-to-back requests, gthread's concurrency kept):
// - A thread takes its turn (Application::take_turn: a WSGI app's GIL)
//   before it takes a request, and keeps it while requests are queued:
//   back-to-back requests cost no thread switch. It ends its turn only when
//   the queue is empty, before it sleeps.
// - "Lookers" are threads that will look at the queue without a wake-up:
//   woken ones, ones waiting for their turn, ones between two requests.
//   submit() wakes an idle thread only when there is none, so a burst does
//   not wake every thread to fight over the GIL; a looker that takes a
//   request while more are queued wakes the next when it was the last.
//   So whenever a request is queued and a thread is idle, some thread waits
//   for its turn: a request blocked in the app (which gives the GIL up)
//   never holds up another that an idle thread can serve.
// - Idle threads are woken most recently idle first (their stacks and
//   caches are warm; the others stay asleep).
// - With defer_wakes(), the wake-up submit() would send is deferred to a
//   callback that runs on the I/O thread once it has handled the events it
//   is on (the requests of one epoll_wait): one wake-up per batch, and the
//   woken thread runs the batch back to back.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
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
  // `post()` must have wake_deferred() called soon on the submitting
  // thread (the I/O thread posts it behind the events it handles now). Set
  // before any submit().
  void defer_wakes(std::function<void()> post) { defer_ = std::move(post); }
  // The wake-up a submit() deferred (see defer_wakes()).
  void wake_deferred();
  // Lets queued work finish, then joins the threads.
  void stop();

 private:
  // One thread's sleep; owned by the pool so that a wake-up may be sent
  // after the lock is let go. A futex word, not a condition variable: the
  // woken thread does not retake mu_ marked contended, nothing spins, and a
  // wake-up sent before the sleep is kept. 0 none, 1 woken, 2 asleep.
  struct Sleeper {
    std::atomic<int> state{0};
    void wait();
    void wake();
  };

  void run(Sleeper& me);
  // Under mu_: wakes the most recently idle thread, which counts as a
  // looker from now on. Returns it (to notify after unlocking), or null.
  Sleeper* wake_one();

  Application& app_;
  std::mutex mu_;
  std::deque<Exchange*> queue_;
  std::vector<Sleeper*> idle_;  // most recently idle last
  unsigned lookers_ = 0;
  bool wake_posted_ = false;  // a deferred wake-up is on its way
  std::function<void()> defer_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Sleeper>> sleepers_;
  std::vector<std::thread> threads_;
};

}  // namespace greenfork::worker
