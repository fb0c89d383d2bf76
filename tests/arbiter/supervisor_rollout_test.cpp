// The Supervisor's scaling and rolling reloads, with a fake ProcessOps.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "supervisor_fixture.hpp"

namespace greenfork::arbiter {
namespace {

TEST_F(SupervisorTest, ScaleValidatesAndWaitsForReady) {
  start({pool("web", 1)});
  beat(100);
  Status got;
  ScaleCommand c;
  c.pool = "nope";
  sup->scale(c, [&](Status o, ScaleResult) { got = o; });
  EXPECT_EQ(got.code(), StatusCode::kNotFound);
  c.pool = "";
  c.relative = true;
  c.delta = -2;
  sup->scale(c, [&](Status o, ScaleResult) { got = o; });
  EXPECT_EQ(got.code(), StatusCode::kInvalidArgument);
  c.delta = 64;
  sup->scale(c, [&](Status o, ScaleResult) { got = o; });
  EXPECT_EQ(got.code(), StatusCode::kInvalidArgument);
  bool done = false;
  c.delta = 1;
  c.wait = true;
  sup->scale(c, [&](Status o, ScaleResult r) {
    done = o.ok() && r.previous == 1 && r.desired == 2;
  });
  EXPECT_FALSE(done);
  ASSERT_EQ(ops.spawned.size(), 2u);
  beat(101);
  advance(0);
  EXPECT_TRUE(done);
}

TEST_F(SupervisorTest, ScaleDownStopsTheOldestWithTerm) {
  start({pool("web", 2)});
  beat(100);
  ops.clock += Seconds(1);
  beat(101);
  ScaleCommand c;
  c.relative = true;
  c.delta = -1;
  sup->scale(c, [](Status, ScaleResult) {});
  ASSERT_FALSE(ops.signals.empty());
  EXPECT_EQ(ops.signals.front(), (std::pair<pid_t, int>{100, SIGTERM}));
}

TEST_F(SupervisorTest, RollingReloadReplacesEveryWorker) {
  start({pool("web", 2)});
  beat(100);
  beat(101);
  Status result = Status::error(StatusCode::kInternal, "not done");
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_EQ(snap().state, PoolState::kReloading);
  ASSERT_EQ(ops.spawned.size(), 3u);       // surge 1: one new worker
  EXPECT_TRUE(ops.signals.empty());        // no old one stopped before it is READY
  Status again;
  sup->reload("web", false, [&](Status o, std::vector<std::string>) { again = o; });
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  beat(102);
  advance(0);
  ASSERT_EQ(ops.spawned.size(), 4u);
  beat(103);
  advance(0);
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(snap().state, PoolState::kRunning);
  for (auto& w : snap().workers) EXPECT_EQ(w.generation, 1u);
}

TEST_F(SupervisorTest, ReloadRollsBackWhenANewWorkerDies) {
  start({pool("web", 2)});
  beat(100);
  beat(101);
  Status result;
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  ops.exit(102, 4 << 8);
  advance(0);
  EXPECT_EQ(result.code(), StatusCode::kAborted);
  EXPECT_NE(result.message().find("exit 4"), std::string::npos);
  EXPECT_EQ(snap().state, PoolState::kRunning);
  EXPECT_NE(snap().state_reason.find("rolled back"), std::string::npos);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kPoolRolledBack));
  EXPECT_EQ(snap().ready, 2u);  // the old workers keep serving
  EXPECT_TRUE(ops.alive[100] && ops.alive[101]);
}

TEST_F(SupervisorTest, ReloadRollsBackWhenANewWorkerIsNotReadyInTime) {
  start({pool("web", 1)});
  beat(100);
  Status result;
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  advance(11);
  EXPECT_EQ(result.code(), StatusCode::kAborted);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kWorkerTimedOut));
  EXPECT_TRUE(ops.alive[100]);
}

TEST_F(SupervisorTest, HupRereadsTheConfigAndARollbackRestoresTheOldCount) {
  Config next;
  next.pools = {pool("web", 3)};
  next.pools[0].command = {"/bin/false"};
  bool bad_file = false;
  start({pool("web", 2)}, [&]() -> StatusOr<Config> {
    if (bad_file) return Status::error("t.toml:3: pools.web.workers: expected an integer");
    return next;
  });
  beat(100);
  beat(101);
  bad_file = true;
  ::raise(SIGHUP);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kRunning);  // a bad file keeps the running config
  EXPECT_EQ(ops.spawned.size(), 2u);
  bad_file = false;
  ::raise(SIGHUP);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kReloading);
  EXPECT_EQ(snap().desired, 3u);
  ASSERT_GE(ops.spawned.size(), 3u);
  EXPECT_EQ(ops.spawned[2].second.argv, (std::vector<std::string>{"/bin/false"}));
  ops.exit(102, 4 << 8);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kRunning);
  EXPECT_EQ(snap().desired, 2u);
  EXPECT_EQ(snap().command, (std::vector<std::string>{"/bin/true", "web"}));
}

}  // namespace
}  // namespace greenfork::arbiter
