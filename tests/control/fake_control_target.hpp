// Test doubles for the control server: a supervisor that answers from
// fixed data (FakeControlTarget) and a loop thread (ThreadLoop) that runs
// posted closures in order, like arbiterd's asio loop.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "greenfork/arbiter/control_target.hpp"

namespace greenfork::testing {

using namespace greenfork::arbiter;

class ThreadLoop final : public LoopExecutor {
 public:
  ThreadLoop();
  ~ThreadLoop() override;
  void post(std::function<void()> fn) override;
  // Runs fn on the loop thread and waits for it.
  void run_sync(const std::function<void()>& fn);
  std::thread::id thread_id() const { return thread_.get_id(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Pool "main" (max_workers 8) with workers in slots 1 (token "tok-1") and
// 2 (token "tok-2"). Every method records a violation when it is called
// off the loop thread. Reads of the recorded fields belong on the loop
// thread too (ThreadLoop::run_sync).
class FakeControlTarget final : public ControlTarget {
 public:
  explicit FakeControlTarget(ThreadLoop& loop, std::string name = "fake") : loop_(loop), name_(std::move(name)) {}

  ArbiterSnapshot status() const override;
  void scale(const ScaleCommand& command, std::function<void(Status, ScaleResult)> done) override;
  void reload(const std::string& pool, bool wait,
              std::function<void(Status, std::vector<std::string>)> done) override;
  Status stop(bool graceful) override;
  Status reopen_logs() override;
  Status signal(const std::string& pool, const std::string& signal_name,
                 unsigned* workers_signalled) override;
  void upgrade(bool wait, std::function<void(Status, pid_t)> done) override;
  uint64_t subscribe(std::function<void(const SupervisorEvent&)> listener) override;
  void unsubscribe(uint64_t id) override;
  Status worker_beat(const HeartbeatReport& report, bool first,
                      std::function<void(WorkerCommandKind)> commands) override;
  void worker_stream_closed(unsigned slot) override;

  // Loop thread: sends an event to every subscriber.
  void emit(const SupervisorEvent& event);

  // Recorded state (loop thread).
  mutable int off_loop_calls = 0;
  unsigned desired = 2;
  std::function<void()> pending_scale;  // a scale --wait not completed yet
  bool reloading = false;
  int stops = 0;
  bool last_stop_graceful = false;
  int reopens = 0;
  std::map<uint64_t, std::function<void(const SupervisorEvent&)>> listeners;
  std::vector<HeartbeatReport> beats;
  std::map<unsigned, std::function<void(WorkerCommandKind)>> command_sinks;
  std::vector<unsigned> closed_streams;

 private:
  void check_thread() const;
  ThreadLoop& loop_;
  std::string name_;
  uint64_t next_id_ = 1;
};

}  // namespace greenfork::testing
