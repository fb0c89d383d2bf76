// Scale and reload plans, exit decisions: pure functions of plain data.
#include "greenfork/arbiter/exit_decision.hpp"
#include "greenfork/arbiter/rollout_plans.hpp"
#include "greenfork/arbiter/rolling_reload.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <optional>

namespace greenfork::arbiter {
namespace {

constexpr auto S = WorkerState::kStarting;
constexpr auto R = WorkerState::kReady;
constexpr auto D = WorkerState::kDraining;

int exited(int code) { return code << 8; }  // a waitpid() status for exit(code)
int signalled(int sig) { return sig; }
MonoTime at(double seconds) { return MonoTime(Seconds(seconds)); }

TEST(ScalePlan, SpawnsTheMissingWorkers) {
  ScalePlan p = plan_scale(3, {{1, R, at(10), 0}});
  EXPECT_EQ(p.spawn, 2u);
  EXPECT_TRUE(p.stop.empty());
}

TEST(ScalePlan, DrainingWorkersDoNotCount) {
  ScalePlan p = plan_scale(2, {{1, R, at(10), 0}, {2, D, at(5), 0}});
  EXPECT_EQ(p.spawn, 1u);
}

TEST(ScalePlan, StopsTheOldestExtraWorkers) {
  ScalePlan p = plan_scale(1, {{1, R, at(30), 0}, {2, R, at(10), 0}, {3, S, at(20), 0}});
  EXPECT_EQ(p.spawn, 0u);
  EXPECT_EQ(p.stop, (std::vector<unsigned>{2, 3}));
}

TEST(ScalePlan, NothingToDoWhenSettled) {
  ScalePlan p = plan_scale(2, {{1, R, at(1), 0}, {2, S, at(2), 0}});
  EXPECT_EQ(p.spawn, 0u);
  EXPECT_TRUE(p.stop.empty());
}

TEST(ReloadPlan, SurgeOneStartsOneNewWorkerFirst) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{1, R, at(1), 0}, {2, R, at(2), 0}});
  EXPECT_EQ(p.spawn, 1u);
  EXPECT_TRUE(p.stop.empty());
  EXPECT_FALSE(p.done);
}

TEST(ReloadPlan, WaitsForTheNewWorkerToBeReady) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{1, R, at(1), 0}, {2, R, at(2), 0}, {3, S, at(3), 1}});
  EXPECT_EQ(p.spawn, 0u);
  EXPECT_TRUE(p.stop.empty());
}

TEST(ReloadPlan, StopsTheOldestOldWorkerOnceTheNewOneIsReady) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{1, R, at(1), 0}, {2, R, at(2), 0}, {3, R, at(3), 1}});
  EXPECT_EQ(p.stop, (std::vector<unsigned>{1}));
  EXPECT_EQ(p.spawn, 1u);  // the stopped one leaves room for the next new worker
}

TEST(ReloadPlan, DoneWhenOnlyReadyNewWorkersRemain) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{1, D, at(1), 0}, {3, R, at(3), 1}, {4, R, at(4), 1}});
  EXPECT_TRUE(p.done);
}

TEST(ReloadPlan, NotDoneWhileANewWorkerIsStarting) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{3, R, at(3), 1}, {4, S, at(4), 1}});
  EXPECT_FALSE(p.done);
  EXPECT_EQ(p.spawn, 0u);
}

TEST(ReloadPlan, MaxUnavailableStopsBeforeStarting) {
  ReloadPlan p = plan_reload(2, 0, 1, 1, {{1, R, at(1), 0}, {2, R, at(2), 0}});
  EXPECT_EQ(p.stop, (std::vector<unsigned>{1}));
  EXPECT_EQ(p.spawn, 1u);
}

TEST(ReloadPlan, NeverBelowDesiredMinusUnavailable) {
  // Surge 2: two new at once, old ones stay until new ones are READY.
  ReloadPlan p = plan_reload(3, 2, 0, 1, {{1, R, at(1), 0}, {2, R, at(2), 0}, {3, R, at(3), 0}});
  EXPECT_EQ(p.spawn, 2u);
  EXPECT_TRUE(p.stop.empty());
}

TEST(ReloadPlan, ZeroSurgeAndZeroUnavailableStillProgresses) {
  ReloadPlan p = plan_reload(1, 0, 0, 1, {{1, R, at(1), 0}});
  EXPECT_EQ(p.spawn, 1u);
}

TEST(ReloadPlan, OldWorkersStillBootingAreStoppedAtOnce) {
  ReloadPlan p = plan_reload(2, 1, 0, 1, {{1, R, at(1), 0}, {2, S, at(2), 0}});
  EXPECT_EQ(p.stop, (std::vector<unsigned>{2}));
}

TEST(RespawnPlan, HeldSlotsWaitForTheirOwnBackoffAndTheRestStartNow) {
  // 3 missing: slot 1 is due, slot 2 waits until 50; one more starts fresh.
  RespawnPlan p = plan_respawn(3, {{2, at(50.0)}, {1, at(9.0)}}, at(10.0));
  EXPECT_EQ(p.into_held, (std::vector<unsigned>{1}));
  EXPECT_EQ(p.fresh, 1u);
  EXPECT_TRUE(p.release.empty());
}

TEST(RespawnPlan, ScaledDownReleasesTheSlotsThatWouldWaitLongest) {
  RespawnPlan p = plan_respawn(1, {{2, at(50.0)}, {1, at(9.0)}, {3, at(30.0)}}, at(10.0));
  EXPECT_EQ(p.release, (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(p.into_held, (std::vector<unsigned>{1}));
  EXPECT_EQ(p.fresh, 0u);
  EXPECT_TRUE(plan_respawn(0, {}, at(0)).into_held.empty());
}

TEST(ExitDecision, BadArgumentsBootAndAppErrorsBeforeReadyFailThePool) {
  EXPECT_EQ(decide_exit(exited(2), S, false), ExitAction::kFailPool);
  EXPECT_EQ(decide_exit(exited(3), S, false), ExitAction::kFailPool);
  EXPECT_EQ(decide_exit(exited(4), S, false), ExitAction::kFailPool);
}

TEST(ExitDecision, AWorkerThatWasReadyIsRespawnedWhateverItsCode) {
  EXPECT_EQ(decide_exit(exited(2), R, false), ExitAction::kRespawn);
  EXPECT_EQ(decide_exit(exited(3), R, false), ExitAction::kRespawn);
}

TEST(ExitDecision, OtherExitsAreRespawned) {
  EXPECT_EQ(decide_exit(exited(1), R, false), ExitAction::kRespawn);
  EXPECT_EQ(decide_exit(exited(0), S, false), ExitAction::kRespawn);
  EXPECT_EQ(decide_exit(signalled(SIGKILL), R, false), ExitAction::kRespawn);
  EXPECT_EQ(decide_exit(signalled(SIGSEGV), S, false), ExitAction::kRespawn);
}

TEST(ExitDecision, StopsWeAskedForAreExpected) {
  EXPECT_EQ(decide_exit(exited(0), D, false), ExitAction::kExpected);
  EXPECT_EQ(decide_exit(exited(4), WorkerState::kStopping, false), ExitAction::kExpected);
}

TEST(ExitDecision, ANewReloadWorkerDyingBeforeReadyRollsBack) {
  EXPECT_EQ(decide_exit(exited(1), S, true), ExitAction::kRollback);
  EXPECT_EQ(decide_exit(exited(4), R, true), ExitAction::kRollback);
  EXPECT_EQ(decide_exit(signalled(SIGKILL), R, true), ExitAction::kRespawn);
}

TEST(RollingReload, RollBackRestoresTheCountAndAFailedPoolStaysFailed) {
  PoolConfig cfg;
  cfg.name = "web";
  cfg.workers = 2;
  WorkerPool pool(cfg, {});
  pool.state = PoolState::kFailed;
  RollingReload reloads;
  PoolConfig next = cfg;
  next.workers = 5;
  reloads.begin(pool, next);
  EXPECT_TRUE(reloads.reloading(pool));
  EXPECT_EQ(pool.state, PoolState::kReloading);
  EXPECT_EQ(RollingReload::worker_count(pool, next).desired, 5u);  // the file's workers changed
  pool.desired = 5;
  ASSERT_NE(reloads.target(pool), nullptr);
  EXPECT_EQ(reloads.target(pool)->workers, 5u);
  reloads.roll_back(pool);
  EXPECT_FALSE(reloads.reloading(pool));
  EXPECT_EQ(pool.desired, 2u);
  EXPECT_EQ(pool.state, PoolState::kFailed);
  EXPECT_EQ(pool.generation, 0u);
}

TEST(RollingReload, TheCountIsKeptUnlessTheFilesWorkersChanged) {
  PoolConfig cfg;
  cfg.workers = 1;
  WorkerPool pool(cfg, {});
  pool.desired = 6;  // gctl scale
  PoolConfig next = cfg;
  RollingReload::Count c = RollingReload::worker_count(pool, next);
  EXPECT_EQ(c.desired, 6u);
  EXPECT_EQ(c.why, "workers unchanged in the file (1): keeping the current 6 worker(s)");
  next.workers = 2;
  c = RollingReload::worker_count(pool, next);
  EXPECT_EQ(c.desired, 2u);
  EXPECT_EQ(c.why, "workers changed in the file (1 -> 2): 2 worker(s)");
  next.workers = 1;
  next.autoscale.min = 1;
  next.autoscale.max = 4;
  c = RollingReload::worker_count(pool, next);
  EXPECT_EQ(c.desired, 4u);
  EXPECT_NE(c.why.find("brought to 4 by autoscale 1:4"), std::string::npos) << c.why;
  next.autoscale = {};
  next.max_workers = 3;
  EXPECT_EQ(RollingReload::worker_count(pool, next).desired, 3u);
}

TEST(RollingReload, FinishTakesTheNewConfigAndGeneration) {
  PoolConfig cfg;
  cfg.command = {"old"};
  WorkerPool pool(cfg, {});
  RollingReload reloads;
  PoolConfig next = cfg;
  next.command = {"new"};
  reloads.begin(pool, next);
  Worker w;
  w.generation = 1;
  EXPECT_TRUE(reloads.is_new(pool, w));
  reloads.finish(pool);
  EXPECT_EQ(pool.config.command, (std::vector<std::string>{"new"}));
  EXPECT_EQ(pool.generation, 1u);
  EXPECT_EQ(pool.state, PoolState::kRunning);
  EXPECT_FALSE(reloads.is_new(pool, w));
}

TEST(RollingReload, AWaiterIsAnsweredWhenAllItsPoolsEndedWithTheFirstRollback) {
  WorkerPool a(PoolConfig{}, {}), b(PoolConfig{}, {});
  a.config.name = "a";
  b.config.name = "b";
  RollingReload reloads;
  std::optional<Status> got;
  reloads.wait({&a, &b}, {"a", "b"}, [&](Status o, std::vector<std::string>) { got = o; });
  reloads.ended(a, "exit 4");
  EXPECT_FALSE(got.has_value());
  reloads.ended(b, "");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), StatusCode::kAborted);
  EXPECT_EQ(got->message(), "pool a: reload rolled back: exit 4");
}

}  // namespace
}  // namespace greenfork::arbiter
