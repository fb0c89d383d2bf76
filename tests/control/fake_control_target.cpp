#include "fake_control_target.hpp"

#include "greenfork/signals.hpp"

namespace greenfork::testing {

ThreadLoop::ThreadLoop() {
  thread_ = std::thread([this] {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  });
}

ThreadLoop::~ThreadLoop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ThreadLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_all();
}

void ThreadLoop::run_sync(const std::function<void()>& fn) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  post([&] {
    fn();
    std::lock_guard lock(done_mu);
    done = true;
    done_cv.notify_all();
  });
  std::unique_lock lock(done_mu);
  done_cv.wait(lock, [&] { return done; });
}

void FakeControlTarget::check_thread() const {
  if (std::this_thread::get_id() != loop_.thread_id()) ++off_loop_calls;
}

ArbiterSnapshot FakeControlTarget::status() const {
  check_thread();
  ArbiterSnapshot snap;
  snap.pid = 4242;
  snap.version = "0.1.0";
  snap.uptime_seconds = 12.5;
  snap.name = name_;
  PoolSnapshot pool;
  pool.name = "main";
  pool.command = {"worker", "--fast"};
  pool.desired = desired;
  pool.running = 2;
  pool.ready = 1;
  pool.state = PoolState::kReloading;
  pool.state_reason = "";
  pool.restarts = 3;
  pool.binds = {"127.0.0.1:8000"};
  pool.heartbeat = "grpc";
  pool.max_workers = 8;
  WorkerSnapshot w;
  w.slot = 1;
  w.pid = 100;
  w.state = WorkerState::kReady;
  w.uptime_seconds = 61;
  w.last_heartbeat_age_seconds = 0.5;
  w.requests_served = 77;
  w.requests_in_flight = 2;
  w.rss_bytes = 123456;
  w.generation = 4;
  w.status_text = "serving";
  pool.workers.push_back(w);
  w.slot = 2;
  w.pid = 101;
  w.state = WorkerState::kStarting;
  w.last_heartbeat_age_seconds = -1;
  pool.workers.push_back(w);
  snap.pools.push_back(pool);
  return snap;
}

void FakeControlTarget::scale(const ScaleCommand& command,
                              std::function<void(Status, ScaleResult)> done) {
  check_thread();
  if (!command.pool.empty() && command.pool != "main") {
    return done(Status::error(StatusCode::kNotFound, "no pool named " + command.pool), {});
  }
  const long target = command.relative ? static_cast<long>(desired) + command.delta
                                       : static_cast<long>(command.count);
  if (target < 0 || target > 8) {
    return done(Status::error(StatusCode::kInvalidArgument,
                              "scale main to " + std::to_string(target) + ": must be 0..8"),
                {});
  }
  ScaleResult result{"main", desired, static_cast<unsigned>(target)};
  desired = result.desired;
  if (command.wait) {
    pending_scale = [done, result] { done(Status(), result); };
  } else {
    done(Status(), result);
  }
}

void FakeControlTarget::reload(const std::string& pool, bool wait,
                               std::function<void(Status, std::vector<std::string>)> done) {
  check_thread();
  if (!pool.empty() && pool != "main") {
    return done(Status::error(StatusCode::kNotFound, "no pool named " + pool), {});
  }
  if (reloading) {
    return done(Status::error(StatusCode::kFailedPrecondition, "main: a reload is running"), {});
  }
  if (wait && name_ == "broken") {
    return done(Status::error(StatusCode::kAborted, "main: rolled back: new worker exited 4"),
                {"main"});
  }
  reloading = !wait;
  done(Status(), {"main"});
}

Status FakeControlTarget::stop(bool graceful) {
  check_thread();
  ++stops;
  last_stop_graceful = graceful;
  return Status();
}

Status FakeControlTarget::reopen_logs() {
  check_thread();
  ++reopens;
  return Status();
}

Status FakeControlTarget::signal(const std::string& pool, const std::string& signal_name,
                                  unsigned* workers_signalled) {
  check_thread();
  if (pool != "main") return Status::error(StatusCode::kNotFound, "no pool named " + pool);
  if (!parse_signal(signal_name)) {
    return Status::error(StatusCode::kInvalidArgument, "unknown signal " + signal_name);
  }
  *workers_signalled = 2;
  return Status();
}

void FakeControlTarget::upgrade(bool /*wait*/, std::function<void(Status, pid_t)> done) {
  check_thread();
  done(Status(), 5151);
}

uint64_t FakeControlTarget::subscribe(std::function<void(const SupervisorEvent&)> listener) {
  check_thread();
  listeners[next_id_] = std::move(listener);
  return next_id_++;
}

void FakeControlTarget::unsubscribe(uint64_t id) {
  check_thread();
  listeners.erase(id);
}

void FakeControlTarget::emit(const SupervisorEvent& event) {
  check_thread();
  auto copy = listeners;  // a listener may unsubscribe
  for (auto& [id, listener] : copy) listener(event);
}

Status FakeControlTarget::worker_beat(const HeartbeatReport& report, bool first,
                                       std::function<void(WorkerCommandKind)> commands) {
  check_thread();
  const std::map<unsigned, std::string> tokens = {{1, "tok-1"}, {2, "tok-2"}};
  auto it = tokens.find(report.slot);
  if (first) {
    for (const auto& [slot, token] : tokens) {
      if (token == report.token && slot != report.slot) {
        return Status::error(StatusCode::kPermissionDenied,
                             "heartbeat for slot " + std::to_string(report.slot) +
                                 " with the token of slot " + std::to_string(slot));
      }
    }
    if (it == tokens.end() || it->second != report.token) {
      return Status::error(StatusCode::kUnauthenticated, "wrong worker token");
    }
    command_sinks[report.slot] = std::move(commands);
  }
  beats.push_back(report);
  return Status();
}

void FakeControlTarget::worker_stream_closed(unsigned slot) {
  check_thread();
  closed_streams.push_back(slot);
  command_sinks.erase(slot);
}

}  // namespace greenfork::testing
