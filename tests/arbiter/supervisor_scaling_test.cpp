// The Supervisor's scaling decisions with a fake ProcessOps and clock:
// reloads keep a scaled count, max_worker_memory replaces a worker
// (successor READY first), the autoscaler moves a pool's target.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "supervisor_fixture.hpp"

namespace greenfork::arbiter {
namespace {

size_t count_signals(const FakeOps& ops, pid_t pid, int signo) {
  size_t n = 0;
  for (auto& [p, s] : ops.signals) n += (p == pid && s == signo) ? 1 : 0;
  return n;
}

void scale_to(Supervisor& sup, unsigned n, Status* out = nullptr) {
  ScaleCommand c;
  c.count = n;
  sup.scale(c, [out](Status o, ScaleResult) {
    if (out != nullptr) *out = o;
  });
}

class ScalingTest : public SupervisorTest {
 protected:
  // Every spawned worker not yet READY says so.
  void ready_all() {
    for (auto& [pid, spec] : ops.spawned) {
      if (!ops.alive[pid]) continue;
      bool ready = false;
      for (auto& w : snap().workers) ready = ready || (w.pid == pid && w.state == WorkerState::kReady);
      if (!ready) beat(pid);
    }
    advance(0);
  }
  Status beat_load(pid_t pid, uint32_t in_flight) {
    HeartbeatReport r;
    r.slot = slot_of(pid);
    r.token = token_of(pid);
    r.requests_in_flight = in_flight;
    return sup->worker_beat(r, false, nullptr);
  }
  void load_all(uint32_t in_flight) {
    for (auto& w : snap().workers) {
      if (w.state == WorkerState::kReady) {
        ASSERT_TRUE(beat_load(w.pid, in_flight).ok());
      }
    }
  }
};

TEST_F(ScalingTest, ReloadKeepsTheScaledCountUnlessTheFilesWorkersChanged) {
  Config next;
  next.pools = {pool("web", 1)};
  start({pool("web", 1)}, [&]() -> StatusOr<Config> { return next; });
  ready_all();
  scale_to(*sup, 4);
  ready_all();
  ASSERT_EQ(snap().ready, 4u);
  const size_t before = ops.spawned.size();
  Status result = Status::error(StatusCode::kInternal, "not done");
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_EQ(snap().desired, 4u);  // the file still says 1: the scaled 4 stay
  EXPECT_EQ(count_signals(ops, 100, SIGTERM), 0u);  // nobody stopped before a successor is READY
  for (int i = 0; i < 10 && !result.ok(); ++i) ready_all();
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(ops.spawned.size(), before + 4);  // all 4 rolled
  EXPECT_EQ(snap().ready, 4u);
  for (auto& w : snap().workers) EXPECT_EQ(w.generation, 1u);
  // The file's workers changes: that count applies.
  next.pools[0].workers = 2;
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_EQ(snap().desired, 2u);
  for (int i = 0; i < 10 && snap().state != PoolState::kRunning; ++i) ready_all();
  EXPECT_EQ(snap().ready, 2u);
  // And stays the file's while it does not change again.
  scale_to(*sup, 3);
  ready_all();
  sup->reload("", false, [](Status, std::vector<std::string>) {});
  EXPECT_EQ(snap().desired, 3u);
}

TEST_F(ScalingTest, AWorkerOverTheMemoryLimitIsReplacedSuccessorFirst) {
  PoolConfig p = pool("web", 2);
  p.max_worker_memory_bytes = 100 << 20;
  start({p});
  ready_all();
  ops.rss[100] = 150 << 20;
  advance(1.1);
  ASSERT_TRUE(has_event(SupervisorEvent::Kind::kWorkerRestarting));
  const SupervisorEvent* restart = nullptr;
  for (auto& e : events) {
    if (e.kind == SupervisorEvent::Kind::kWorkerRestarting) restart = &e;
  }
  EXPECT_EQ(restart->reason, "memory");
  EXPECT_EQ(restart->pid, 100);
  EXPECT_NE(restart->detail.find("RSS 150.0 MiB is above max_worker_memory 100.0 MiB"), std::string::npos)
      << restart->detail;
  ASSERT_EQ(ops.spawned.size(), 3u);  // the successor
  EXPECT_EQ(count_signals(ops, 100, SIGTERM), 0u);  // still serving
  advance(1.1);
  EXPECT_EQ(ops.spawned.size(), 3u);  // not replaced twice
  EXPECT_EQ(snap().restarts, 1u);
  beat(102);
  advance(0);
  EXPECT_EQ(count_signals(ops, 100, SIGTERM), 1u);  // successor READY: TERM to the old one
  EXPECT_FALSE(ops.alive[100]);
  advance(0);
  EXPECT_EQ(snap().ready, 2u);
  EXPECT_EQ(ops.spawned.size(), 3u);  // its exit is expected: no respawn
  EXPECT_EQ(snap().workers.size(), 2u);
  // Counted once it is gone: greenfork_worker_restarts_total{reason="memory"}.
  EXPECT_EQ(snap().restarts_by_reason[static_cast<size_t>(RestartReason::kMemory)], 1u);
}

TEST_F(ScalingTest, NoMemoryLimitNoReplacement) {
  start({pool("web", 1)});
  ready_all();
  ops.rss[100] = 1ull << 40;
  advance(2);
  EXPECT_FALSE(has_event(SupervisorEvent::Kind::kWorkerRestarting));
  EXPECT_EQ(ops.spawned.size(), 1u);
}

TEST_F(ScalingTest, AutoscaleGrowsUnderLoadAndShrinksOldestFirstAfterTheCooldown) {
  PoolConfig p = pool("web", 1);
  p.autoscale.min = 1;
  p.autoscale.max = 3;
  p.autoscale.cooldown_seconds = 5;
  start({p});
  ready_all();
  load_all(20);
  advance(1.9);  // a worker READY a moment ago is not judged yet
  EXPECT_EQ(snap().desired, 1u);
  load_all(20);
  advance(0.5);
  EXPECT_EQ(snap().desired, 1u);
  load_all(20);
  advance(1.0);
  EXPECT_EQ(snap().desired, 1u);  // busy for 1.0s only
  advance(0.6);
  EXPECT_EQ(snap().desired, 2u);
  ASSERT_EQ(ops.spawned.size(), 2u);
  const SupervisorEvent& scaled = events.back().kind == SupervisorEvent::Kind::kPoolScaled ? events.back() : events.at(events.size() - 2);
  EXPECT_EQ(scaled.kind, SupervisorEvent::Kind::kPoolScaled);
  EXPECT_NE(scaled.detail.find("autoscale 1 -> 2: busy"), std::string::npos) << scaled.detail;
  advance(3);  // starting: no further step
  EXPECT_EQ(snap().desired, 2u);
  ready_all();
  load_all(20);
  advance(1.0);
  EXPECT_EQ(snap().desired, 2u);  // the new worker's load is not measured yet
  load_all(20);
  advance(1.1);
  EXPECT_EQ(snap().desired, 3u);  // busy all along: the next step at once
  ready_all();
  load_all(20);
  advance(5);
  EXPECT_EQ(snap().desired, 3u);  // max
  // The load goes: after each cooldown one worker goes, the oldest first.
  load_all(0);
  advance(0.1);
  advance(4.8);
  EXPECT_EQ(snap().desired, 3u);
  advance(0.3);
  EXPECT_EQ(snap().desired, 2u);
  EXPECT_EQ(count_signals(ops, 100, SIGTERM), 1u);
  advance(5.1);
  EXPECT_EQ(snap().desired, 1u);
  load_all(0);
  advance(6);
  EXPECT_EQ(snap().desired, 1u);  // min
  EXPECT_EQ(snap().ready, 1u);
}

TEST_F(ScalingTest, ManualScaleMovesTheTargetWithinTheAutoscaleBounds) {
  PoolConfig p = pool("web", 2);
  p.autoscale.min = 2;
  p.autoscale.max = 4;
  start({p});
  ready_all();
  Status o;
  scale_to(*sup, 5, &o);
  EXPECT_EQ(o.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.message().find("autoscales between 2 and 4 workers: 5 is outside"), std::string::npos) << o.message();
  scale_to(*sup, 1, &o);
  EXPECT_EQ(o.code(), StatusCode::kInvalidArgument);
  scale_to(*sup, 4, &o);
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(snap().desired, 4u);
}

TEST_F(ScalingTest, AutoscaledPoolsStartWithinTheirBoundsAndBeatOften) {
  PoolConfig p = pool("web", 1);
  p.autoscale.min = 2;
  p.autoscale.max = 4;
  start({p});
  EXPECT_EQ(snap().desired, 2u);
  bool fast = false;
  for (auto& kv : ops.env_of(100)) fast = fast || kv == "ARBITER_HEARTBEAT_INTERVAL=0.5";
  EXPECT_TRUE(fast);
}

}  // namespace
}  // namespace greenfork::arbiter
