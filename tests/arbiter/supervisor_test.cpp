// The supervisor's decisions end to end, with a fake ProcessOps: no fork,
// a fake clock, exits injected by the test.
#include "greenfork/arbiter/supervisor.hpp"

#include <sys/wait.h>

#include <asio/io_context.hpp>
#include <csignal>
#include <functional>
#include <deque>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <unistd.h>

#include "greenfork/sd_notify.hpp"
#include "supervisor_fixture.hpp"

namespace greenfork::arbiter {
namespace {

TEST_F(SupervisorTest, SpawnsTheWorkersWithTheContractEnvironment) {
  start({pool("web", 2)});
  ASSERT_EQ(ops.spawned.size(), 2u);
  auto env = ops.env_of(100);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("ARBITER_POOL=web"));
  EXPECT_TRUE(has("ARBITER_WORKER_ID=1"));
  EXPECT_TRUE(has("LISTEN_FDS=0"));
  EXPECT_TRUE(has("ARBITER_HEARTBEAT_INTERVAL=15"));
  EXPECT_EQ(slot_of(101), 2u);
  EXPECT_NE(token_of(100), token_of(101));
  EXPECT_EQ(snap().running, 2u);
  EXPECT_EQ(snap().ready, 0u);
}

TEST_F(SupervisorTest, HeartbeatAuthentication) {
  start({pool("web", 2)});
  HeartbeatReport wrong;
  wrong.slot = 1;
  wrong.token = "nope";
  EXPECT_EQ(sup->worker_beat(wrong, true, nullptr).code(), StatusCode::kUnauthenticated);
  HeartbeatReport other;
  other.slot = 2;
  other.token = token_of(100);  // slot 1's token
  EXPECT_EQ(sup->worker_beat(other, true, nullptr).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(beat(100).ok());
  EXPECT_EQ(snap().ready, 1u);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kWorkerReady));
}

TEST_F(SupervisorTest, RespawnsACrashedWorkerInTheSameSlot) {
  start({pool("web", 2)});
  beat(100);
  beat(101);
  ops.clock += Seconds(20);  // healthy, and within the heartbeat timeout
  ops.exit(100, SIGKILL);
  advance(0);
  ASSERT_EQ(ops.spawned.size(), 3u);
  EXPECT_EQ(slot_of(102), 1u);
  EXPECT_EQ(snap().restarts, 1u);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kWorkerExited));
}

TEST_F(SupervisorTest, FastCrashesBackOff) {
  start({pool("web", 1)});
  ops.exit(100, 1 << 8);
  advance(0);
  ASSERT_EQ(ops.spawned.size(), 2u);  // the first fast crash restarts at once
  ops.exit(101, 1 << 8);
  advance(0);
  EXPECT_EQ(ops.spawned.size(), 2u);  // the second waits initial_seconds
  advance(0.2);
  EXPECT_EQ(ops.spawned.size(), 3u);
}

TEST_F(SupervisorTest, AWorkerKilledEveryHalfSecondAfterReadyIsAlwaysReplacedAtOnce) {
  start({pool("web", 1)});
  for (pid_t pid = 100; pid < 120; ++pid) {
    ASSERT_EQ(ops.spawned.size(), static_cast<size_t>(pid - 99));
    beat(pid);  // READY: it booted
    ops.clock += Seconds(0.5);
    ops.exit(pid, SIGKILL);
    advance(0);
  }
  EXPECT_EQ(ops.spawned.size(), 21u);  // never a back-off delay
  EXPECT_EQ(snap().running, 1u);
}

TEST_F(SupervisorTest, OneSlotsCrashLoopDoesNotHoldBackTheOtherSlots) {
  start({pool("web", 2)});
  beat(101);  // slot 2 serves
  ops.exit(100, 1 << 8);  // slot 1 crashes at boot: replaced at once (102)
  advance(0);
  ASSERT_EQ(ops.spawned.size(), 3u);
  EXPECT_EQ(slot_of(102), 1u);
  ops.exit(102, 1 << 8);  // again: slot 1 now waits for its back-off
  advance(0);
  EXPECT_EQ(ops.spawned.size(), 3u);
  ops.clock += Seconds(0.01);
  ops.exit(101, SIGKILL);  // slot 2 dies: its replacement does not wait behind slot 1
  advance(0);
  ASSERT_EQ(ops.spawned.size(), 4u);
  EXPECT_EQ(slot_of(103), 2u);
  advance(0.2);  // slot 1's delay is over: its replacement starts in slot 1
  ASSERT_EQ(ops.spawned.size(), 5u);
  EXPECT_EQ(slot_of(104), 1u);
}

TEST_F(SupervisorTest, ExitFourFailsTheOnlyPoolAndStopsWithExitThree) {
  start({pool("web", 2)});
  beat(100);
  ops.exit(101, 4 << 8);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kFailed);
  EXPECT_NE(snap().state_reason.find("exit 4"), std::string::npos);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kPoolFailed));
  advance(0.1);
  EXPECT_TRUE(sup->finished());
  EXPECT_EQ(sup->exit_status().code, 3);
  EXPECT_EQ(ops.spawned.size(), 2u);  // never respawned
}

TEST_F(SupervisorTest, ExitTwoBeforeReadyFailsThePoolWithTheWorkersLastStatus) {
  // The worker is this process, so the datagram's SCM_CREDENTIALS name it.
  ops.next_pid = ::getpid();
  start({pool("web", 1)});
  std::string address;
  for (auto& kv : ops.env_of(::getpid())) {
    if (kv.rfind("NOTIFY_SOCKET=", 0) == 0) address = kv.substr(14);
  }
  ASSERT_FALSE(address.empty());
  ASSERT_TRUE(sd_notify_to(address, "STATUS=loading app\nSTATUS=--threads: must be at least 1").ok());
  ops.exit(::getpid(), 2 << 8);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kFailed);
  EXPECT_NE(snap().state_reason.find("--threads: must be at least 1"), std::string::npos);
  EXPECT_NE(snap().state_reason.find("exit 2"), std::string::npos);
  advance(0.1);
  EXPECT_TRUE(sup->finished());
  EXPECT_NE(sup->exit_status().code, 0);
  EXPECT_NE(sup->exit_status().reason.find("--threads: must be at least 1"), std::string::npos);
  EXPECT_EQ(ops.spawned.size(), 1u);  // never respawned
}

TEST_F(SupervisorTest, TheNotifyLoopReadsABudgetPerTickThenWaitsForTheNextTick) {
  ops.next_pid = ::getpid();  // the datagrams' SCM_CREDENTIALS name this process
  start({pool("web", 1)});
  std::string address;
  for (auto& kv : ops.env_of(::getpid())) {
    if (kv.rfind("NOTIFY_SOCKET=", 0) == 0) address = kv.substr(14);
  }
  ASSERT_FALSE(address.empty());
  // In batches the socket's queue holds (net.unix.max_dgram_qlen may be 10):
  // 261 datagrams, 5 more than the 256 a tick lets the loop read.
  for (int batch = 0; batch < 29; ++batch) {
    for (int i = 0; i < 9; ++i) ASSERT_TRUE(sd_notify_to(address, "STATUS=flood").ok());
    io.poll();
    io.restart();
  }
  ASSERT_TRUE(sd_notify_to(address, "READY=1").ok());
  io.poll();
  io.restart();
  EXPECT_EQ(snap().ready, 0u);  // waits in the socket until the next tick
  advance(0);
  EXPECT_EQ(snap().ready, 1u);
  // The tick gave the loop a new budget: it reads again without another tick.
  ASSERT_TRUE(sd_notify_to(address, "STATUS=after the tick").ok());
  io.poll();
  io.restart();
  EXPECT_EQ(snap().workers.at(0).status_text, "after the tick");
}

TEST_F(SupervisorTest, AWorkerThatWasReadyAndExitsThreeIsRespawned) {
  start({pool("web", 1)});
  beat(100);
  ops.clock += Seconds(20);
  ops.exit(100, 3 << 8);
  advance(0);
  EXPECT_EQ(snap().state, PoolState::kRunning);
  EXPECT_EQ(ops.spawned.size(), 2u);
}

TEST_F(SupervisorTest, ExitThreeFailsOnePoolOfTwoAndTheOtherKeepsRunning) {
  start({pool("a", 1), pool("b", 1)});
  ops.exit(100, 3 << 8);
  advance(0);
  EXPECT_EQ(snap(0).state, PoolState::kFailed);
  EXPECT_EQ(snap(1).state, PoolState::kRunning);
  EXPECT_FALSE(sup->finished());
}

TEST_F(SupervisorTest, HungWorkerGetsAbortThenKill) {
  start({pool("web", 1)});
  ops.exit_on_signal = false;
  beat(100);
  advance(31);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kWorkerTimedOut));
  ASSERT_FALSE(ops.signals.empty());
  EXPECT_EQ(ops.signals.back(), (std::pair<pid_t, int>{100, SIGABRT}));
  advance(1.5);
  EXPECT_EQ(ops.signals.back(), (std::pair<pid_t, int>{100, SIGKILL}));
}

TEST_F(SupervisorTest, ExecFailureFailsThePool) {
  FakeOps& o = ops;
  o.fail_exec_for = {"/bin/true", "web"};
  start({pool("web", 1)});
  EXPECT_EQ(snap().state, PoolState::kFailed);
  EXPECT_NE(snap().state_reason.find("exec /bin/true"), std::string::npos);
}

TEST_F(SupervisorTest, GracefulStopTermsEveryWorkerAndFinishes) {
  start({pool("web", 2)});
  EXPECT_TRUE(sup->stop(true).ok());
  advance(0);
  EXPECT_TRUE(sup->finished());
  EXPECT_EQ(sup->exit_status().code, 0);
  EXPECT_TRUE(has_event(SupervisorEvent::Kind::kArbiterStopping));
}

TEST_F(SupervisorTest, GracefulStopKillsWorkersThatIgnoreTerm) {
  start({pool("web", 1)});
  ops.exit_on_signal = false;
  sup->stop(true);
  advance(0);
  EXPECT_FALSE(sup->finished());
  advance(6);
  EXPECT_EQ(ops.signals.back(), (std::pair<pid_t, int>{100, SIGKILL}));
}

TEST_F(SupervisorTest, AFailedPoolClosesItsListenersAndAReloadThatBringsItBackReopensThem) {
  sockets = {PoolSockets{{50}, {"a"}, {"127.0.0.1:8001"}}, PoolSockets{{60}, {"b"}, {"127.0.0.1:8002"}}};
  start({pool("a", 1), pool("b", 1)});
  beat(100);
  ops.exit(101, 4 << 8);  // b cannot load its app
  advance(0);
  ASSERT_EQ(snap(1).state, PoolState::kFailed);
  EXPECT_EQ(ops.open_listeners, (std::set<int>{50}));  // b refuses, a serves
  Status result;
  sup->reload("b", true, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_EQ(ops.open_listeners, (std::set<int>{50, 60}));  // for b's new workers
  ops.exit(102, 4 << 8);  // still broken: rolled back, failed, closed again
  advance(0);
  EXPECT_EQ(result.code(), StatusCode::kAborted);
  EXPECT_EQ(snap(1).state, PoolState::kFailed);
  EXPECT_EQ(ops.open_listeners, (std::set<int>{50}));
  sup->reload("b", true, [&](Status o, std::vector<std::string>) { result = o; });
  beat(103);
  advance(0);
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(snap(1).state, PoolState::kRunning);
  EXPECT_EQ(ops.open_listeners, (std::set<int>{50, 60}));
}

TEST_F(SupervisorTest, AGracefulStopClosesArbiterdsListenersAtOnce) {
  sockets = {PoolSockets{{50, 51}, {"a", "b"}, {"127.0.0.1:8001", "fd://51"}}};
  start({pool("web", 1)});
  beat(100);
  ops.exit_on_signal = false;  // the worker drains an in-flight request
  sup->stop(true);
  EXPECT_TRUE(ops.open_listeners.empty());
  EXPECT_FALSE(sup->finished());
}

TEST_F(SupervisorTest, StatusReportsWorkers) {
  start({pool("web", 1)});
  beat(100);
  ArbiterSnapshot s = sup->status();
  ASSERT_EQ(s.pools.size(), 1u);
  ASSERT_EQ(s.pools[0].workers.size(), 1u);
  EXPECT_EQ(s.pools[0].workers[0].pid, 100);
  EXPECT_EQ(s.pools[0].workers[0].state, WorkerState::kReady);
  EXPECT_EQ(s.pools[0].workers[0].rss_bytes, 4096u);
  EXPECT_EQ(s.pools[0].heartbeat, "notify");
}

}  // namespace
}  // namespace greenfork::arbiter
