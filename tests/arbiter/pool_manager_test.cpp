// The pool manager alone (spawn, manage_workers, murder_workers,
// worker_exited) with a fake ProcessOps: no fork, a fake clock.
#include "greenfork/arbiter/pool_manager.hpp"

#include <csignal>
#include <gtest/gtest.h>

#include "fake_process_ops.hpp"

namespace greenfork::arbiter {
namespace {

class PoolManagerTest : public ::testing::Test {
 protected:
  void make(unsigned workers) {
    PoolConfig p;
    p.name = "web";
    p.command = {"/bin/true", "web"};
    p.workers = workers;
    p.heartbeat = HeartbeatMode::kNotify;
    p.graceful_timeout_seconds = 5;
    p.boot_timeout_seconds = 10;
    ArbiterOptions o;
    o.config.pools = {p};
    o.control_socket = "/run/ctl.sock";
    ops.exit_on_signal = false;
    manager = std::make_unique<PoolManager>(ops, events, o);
    manager->set_notify_address("/run/notify.sock");
    events.subscribe([this](const SupervisorEvent& e) { seen.push_back(e.kind); });
  }
  WorkerPool& pool() { return *manager->pools().front(); }
  std::string env(pid_t pid, const std::string& key) {
    for (const std::string& kv : ops.env_of(pid)) {
      if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
    }
    return "";
  }
  bool signalled(pid_t pid, int signo) {
    for (auto& [p, s] : ops.signals) {
      if (p == pid && s == signo) return true;
    }
    return false;
  }
  void murder() {
    manager->murder_workers([](const WorkerPool& p, const Worker&) -> const PoolConfig& { return p.config; },
                            [this](WorkerPool&, Worker& w, HeartbeatVerdict v) { timeouts.push_back({w.pid, v}); });
  }

  FakeOps ops;
  EventFeed events;
  std::unique_ptr<PoolManager> manager;
  std::vector<SupervisorEvent::Kind> seen;
  std::vector<std::pair<pid_t, HeartbeatVerdict>> timeouts;
};

TEST_F(PoolManagerTest, StartsDesiredWorkersOnTheLowestSlotsWithTheContractEnvironment) {
  make(3);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  ASSERT_EQ(pool().workers.size(), 3u);
  EXPECT_EQ(env(100, "ARBITER_WORKER_ID"), "1");
  EXPECT_EQ(env(102, "ARBITER_WORKER_ID"), "3");
  EXPECT_EQ(env(100, "NOTIFY_SOCKET"), "/run/notify.sock");
  EXPECT_EQ(env(100, "ARBITER_SOCKET"), "/run/ctl.sock");
  EXPECT_EQ(seen, std::vector<SupervisorEvent::Kind>(3, SupervisorEvent::Kind::kWorkerSpawned));
  // At target: nothing more to do.
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  EXPECT_EQ(ops.spawned.size(), 3u);
}

TEST_F(PoolManagerTest, AFailedSpawnSaysWhyAndFreesItsSlot) {
  make(1);
  ops.fail_exec_for = {"/bin/true", "web"};
  Status s = manager->manage_workers(pool());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No such file"), std::string::npos);
  EXPECT_TRUE(pool().workers.empty());
  ops.fail_exec_for.clear();
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  EXPECT_EQ(env(100, "ARBITER_WORKER_ID"), "1");
}

TEST_F(PoolManagerTest, ScalingDownTermsTheOldestAndKillsItAfterGracefulTimeout) {
  make(2);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  pool().desired = 1;
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  EXPECT_TRUE(signalled(100, SIGTERM));
  EXPECT_FALSE(signalled(101, SIGTERM));
  EXPECT_EQ(pool().find_pid(100)->state, WorkerState::kDraining);
  ops.clock += Seconds(4.9);
  murder();
  EXPECT_FALSE(signalled(100, SIGKILL));
  ops.clock += Seconds(0.2);
  murder();
  EXPECT_TRUE(signalled(100, SIGKILL));
}

TEST_F(PoolManagerTest, ReadyFromNotifyAndABootTimeoutAbortsTheSilentWorker) {
  make(2);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  manager->apply_notify(pool(), *pool().find_pid(100), parse_notify_message("READY=1\nSTATUS=up"));
  EXPECT_EQ(pool().find_pid(100)->state, WorkerState::kReady);
  EXPECT_EQ(pool().find_pid(100)->status_text, "up");
  ops.clock += Seconds(10.5);
  manager->apply_notify(pool(), *pool().find_pid(100), parse_notify_message("WATCHDOG=1"));
  murder();
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].first, 101);
  EXPECT_EQ(timeouts[0].second, HeartbeatVerdict::kBootTimeout);
  EXPECT_TRUE(signalled(101, SIGABRT));
  EXPECT_EQ(pool().find_pid(101)->state, WorkerState::kStopping);
  EXPECT_EQ(pool().ready_count(), 1u);
}

TEST_F(PoolManagerTest, ACrashHoldsTheSlotForItsReplacement) {
  make(2);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  manager->apply_notify(pool(), *pool().find_pid(100), parse_notify_message("READY=1"));
  PoolManager::Exit e = manager->worker_exited(pool(), 100, SIGSEGV, false, false);
  EXPECT_EQ(e.action, ExitAction::kRespawn);
  EXPECT_TRUE(signalled(100, SIGKILL));  // its process group goes with it
  ASSERT_EQ(pool().held.size(), 1u);
  EXPECT_EQ(pool().restarts, 1u);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  EXPECT_EQ(env(102, "ARBITER_WORKER_ID"), "1");
  EXPECT_TRUE(pool().held.empty());
}

TEST_F(PoolManagerTest, ExitThreeBeforeReadyCarriesTheWorkersReasonAndFreesTheSlot) {
  make(1);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  manager->apply_notify(pool(), *pool().find_pid(100), parse_notify_message("STATUS=Failed to find application"));
  PoolManager::Exit e = manager->worker_exited(pool(), 100, 3 << 8, false, false);
  EXPECT_EQ(e.action, ExitAction::kFailPool);
  EXPECT_EQ(e.reason.rfind("Failed to find application (worker slot 1 pid 100", 0), 0u) << e.reason;
  EXPECT_TRUE(pool().held.empty());
  EXPECT_EQ(pool().restarts, 0u);
}

TEST_F(PoolManagerTest, ACrashWhileStoppingIsNotRespawned) {
  make(1);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  PoolManager::Exit e = manager->worker_exited(pool(), 100, SIGSEGV, false, /*stopping=*/true);
  EXPECT_EQ(e.action, ExitAction::kRespawn);
  EXPECT_TRUE(pool().held.empty());
  EXPECT_EQ(pool().restarts, 0u);
}

TEST_F(PoolManagerTest, AReloadStepSurgesOneNewWorkerThenRetiresAnOldOne) {
  make(1);
  ASSERT_TRUE(manager->manage_workers(pool()).ok());
  manager->apply_notify(pool(), *pool().find_pid(100), parse_notify_message("READY=1"));
  PoolConfig target = pool().config;
  target.max_surge = 1;
  target.max_unavailable = 0;
  PoolManager::ReloadStep step = manager->reload_step(pool(), target, 1, pool().sockets);
  EXPECT_FALSE(step.done);
  ASSERT_TRUE(step.spawn.ok());
  ASSERT_NE(pool().find_pid(101), nullptr);
  EXPECT_EQ(pool().find_pid(101)->generation, 1u);
  EXPECT_FALSE(signalled(100, SIGTERM));  // the new one is not READY yet
  manager->apply_notify(pool(), *pool().find_pid(101), parse_notify_message("READY=1"));
  step = manager->reload_step(pool(), target, 1, pool().sockets);
  EXPECT_TRUE(signalled(100, SIGTERM));
}

}  // namespace
}  // namespace greenfork::arbiter
