// AppPool's hand-off: every request runs once, turns are taken before a
// request and given up before a thread sleeps, a request blocked in the app
// never holds up queued ones while a thread is idle (also with the wake-ups
// deferred to the I/O thread's batch), and no more than N run at once.
// The fake app's turn is a mutex, held as a WSGI app holds the GIL: across
// back-to-back requests, given up while a request blocks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/app_pool.hpp"

namespace greenfork::worker {
namespace {

using namespace std::chrono_literals;

class Host final : public WorkerHost {
 public:
  void request_restart(const std::string&) override {}
  void log_error(std::string_view) override {}
};

// The I/O side of one request: counts the final op.
struct Slot {
  Exchange exchange;
  std::atomic<int> finished{0};
};

struct Finishes {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
};
Finishes g_finishes;

void wake(void* arg) {
  auto* slot = static_cast<Slot*>(arg);
  if (slot->exchange.take_op() == Exchange::Op::kFinish) {
    slot->finished.fetch_add(1);
    std::lock_guard<std::mutex> lock(g_finishes.mu);
    ++g_finishes.count;
    g_finishes.cv.notify_all();
  }
  slot->exchange.wake_ran();
}

bool wait_finishes(int n, std::chrono::milliseconds limit = 20s) {
  std::unique_lock<std::mutex> lock(g_finishes.mu);
  return g_finishes.cv.wait_for(lock, limit, [n] { return g_finishes.count >= n; });
}

class TurnApp final : public Application {
 public:
  void handle(Request& request, ResponseWriter& response) override {
    EXPECT_TRUE(holding()) << "handle() outside a turn";
    const int now = ++running_;
    int seen = max_running_.load();
    while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
    }
    if (request.path == "/block") {
      // Blocks as Python code does: without the turn.
      turn_.unlock();
      t_holding = false;
      {
        std::unique_lock<std::mutex> lock(gate_mu_);
        ++blocked_;
        gate_cv_.notify_all();
        gate_cv_.wait(lock, [this] { return open_; });
        --blocked_;
      }
      turn_.lock();
      t_holding = true;
    }
    --running_;
    response.write("ok", 2);
  }
  void take_turn() override {
    ++turns_;
    turn_.lock();
    t_holding = true;
  }
  void end_turn() override {
    EXPECT_TRUE(holding());
    t_holding = false;
    turn_.unlock();
  }
  void thread_stopping() override { EXPECT_FALSE(holding()) << "a thread stopped in its turn"; }

  bool holding() const { return t_holding; }
  void open_gate() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    open_ = true;
    gate_cv_.notify_all();
  }
  bool wait_blocked(int n) {
    std::unique_lock<std::mutex> lock(gate_mu_);
    return gate_cv_.wait_for(lock, 20s, [&] { return blocked_ >= n; });
  }
  // True once nobody holds a turn (every thread ended its turn idle).
  bool turn_free() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (turn_.try_lock()) {
        turn_.unlock();
        return true;
      }
      std::this_thread::yield();
    }
    return false;
  }
  int max_running() const { return max_running_.load(); }
  int turns() const { return turns_.load(); }

 private:
  static thread_local bool t_holding;
  std::mutex turn_;
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
  std::atomic<int> turns_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool open_ = false;
  int blocked_ = 0;
};
thread_local bool TurnApp::t_holding = false;

class AppPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::lock_guard<std::mutex> lock(g_finishes.mu);
    g_finishes.count = 0;
  }
  Slot& slot(const std::string& path) {
    slots_.push_back(std::make_unique<Slot>());
    Slot& s = *slots_.back();
    s.exchange.reset(Exchange::Context{&wake, &s, &stopping_, &host_, nullptr, nullptr}, false);
    s.exchange.request.method = "GET";
    s.exchange.request.path = s.exchange.request.target = path;
    return s;
  }

  Host host_;
  std::atomic<bool> stopping_{false};
  std::deque<std::unique_ptr<Slot>> slots_;  // outlive the pool (declared first)
};

TEST_F(AppPoolTest, EveryRequestRunsOnceAndTurnsAreGivenBack) {
  TurnApp app;
  {
    AppPool pool(app, 4);
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 25; ++i) pool.submit(&slot("/").exchange);
    }
    ASSERT_TRUE(wait_finishes(500));
    EXPECT_TRUE(app.turn_free());
    pool.stop();
  }
  for (const auto& s : slots_) EXPECT_EQ(s->finished.load(), 1);
  EXPECT_LE(app.max_running(), 4);
  // Back-to-back requests share turns.
  EXPECT_LT(app.turns(), 500);
}

TEST_F(AppPoolTest, ABlockedRequestDoesNotHoldUpQueuedOnes) {
  TurnApp app;
  AppPool pool(app, 2);
  // In one burst: the second thread must take the rest while the first
  // request blocks, whichever thread took it.
  pool.submit(&slot("/block").exchange);
  for (int i = 0; i < 50; ++i) pool.submit(&slot("/").exchange);
  ASSERT_TRUE(app.wait_blocked(1));
  EXPECT_TRUE(wait_finishes(50)) << "queued requests waited for the blocked one";
  // Then one at a time, as they come.
  for (int i = 0; i < 20; ++i) {
    pool.submit(&slot("/").exchange);
    ASSERT_TRUE(wait_finishes(51 + i));
  }
  app.open_gate();
  ASSERT_TRUE(wait_finishes(71));
  EXPECT_TRUE(app.turn_free());
  pool.stop();
}

TEST_F(AppPoolTest, DeferredWakeUpsRunWhenTheIoThreadSaysSo) {
  TurnApp app;
  std::mutex mu;
  size_t deferred = 0;
  AppPool pool(app, 2);
  pool.defer_wakes([&] {
    std::lock_guard<std::mutex> lock(mu);
    ++deferred;
  });
  auto run_deferred = [&] {
    size_t n = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      n = std::exchange(deferred, 0);
    }
    for (size_t i = 0; i < n; ++i) pool.wake_deferred();
    return n;
  };
  pool.submit(&slot("/block").exchange);
  for (int i = 0; i < 10; ++i) pool.submit(&slot("/").exchange);
  // At most one wake-up for the batch (none when a thread just started
  // and was still looking at the queue).
  EXPECT_LE(run_deferred(), 1u);
  ASSERT_TRUE(app.wait_blocked(1));
  EXPECT_TRUE(wait_finishes(10));
  for (int i = 0; i < 10; ++i) {
    pool.submit(&slot("/").exchange);
    run_deferred();
    ASSERT_TRUE(wait_finishes(11 + i));
  }
  app.open_gate();
  ASSERT_TRUE(wait_finishes(21));
  pool.stop();
}

TEST_F(AppPoolTest, NoMoreThanNRunAtOnce) {
  TurnApp app;
  AppPool pool(app, 3);
  for (int i = 0; i < 5; ++i) pool.submit(&slot("/block").exchange);
  ASSERT_TRUE(app.wait_blocked(3));
  pool.submit(&slot("/").exchange);
  EXPECT_FALSE(wait_finishes(1, 300ms)) << "a fourth request ran with 3 threads blocked";
  EXPECT_EQ(app.max_running(), 3);
  app.open_gate();
  ASSERT_TRUE(wait_finishes(6));
  pool.stop();
}

}  // namespace
}  // namespace greenfork::worker
