// The supervisor's decisions end to end, with a fake ProcessOps: no fork,
// a fake clock, exits injected by the test.
#include "greenfork/arbiter/supervisor.hpp"
#include "greenfork/arbiter/binary_upgrade.hpp"
#include "greenfork/arbiter/worker_spawn_spec.hpp"

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
#include "fake_process_ops.hpp"

namespace greenfork::arbiter {
namespace {

PoolConfig pool(const std::string& name, unsigned workers) {
  PoolConfig p;
  p.name = name;
  p.command = {"/bin/true", name};
  p.workers = workers;
  p.heartbeat = HeartbeatMode::kNotify;
  p.graceful_timeout_seconds = 5;
  p.boot_timeout_seconds = 10;
  return p;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void start(std::vector<PoolConfig> pools, std::function<StatusOr<Config>()> reload_config = nullptr) {
    ArbiterOptions o;
    o.config.pools = std::move(pools);
    o.reload_config = std::move(reload_config);
    o.sockets = sockets;
    for (const PoolSockets& ps : sockets) ops.open_listeners.insert(ps.fds.begin(), ps.fds.end());
    sup = std::make_unique<Supervisor>(io, ops, std::move(o));
    ASSERT_TRUE(sup->start());
    sup->subscribe([this](const SupervisorEvent& e) { events.push_back(e); });
  }
  // Advances the fake clock and runs one tick, with whatever the loop has
  // ready before and after it (signals, notify datagrams): no wall clock.
  void advance(double seconds) {
    ops.clock += Seconds(seconds);
    io.poll();
    io.restart();
    sup->tick();
    io.poll();
    io.restart();
  }
  std::string token_of(pid_t pid) {
    for (auto& kv : ops.env_of(pid)) {
      if (kv.rfind("ARBITER_WORKER_TOKEN=", 0) == 0) return kv.substr(21);
    }
    return "";
  }
  unsigned slot_of(pid_t pid) {
    for (auto& kv : ops.env_of(pid)) {
      if (kv.rfind("ARBITER_WORKER_ID=", 0) == 0) return static_cast<unsigned>(std::stoul(kv.substr(18)));
    }
    return 0;
  }
  Status beat(pid_t pid, bool first = true) {
    HeartbeatReport r;
    r.slot = slot_of(pid);
    r.token = token_of(pid);
    return sup->worker_beat(r, first, nullptr);
  }
  PoolSnapshot snap(size_t i = 0) { return sup->status().pools.at(i); }
  bool has_event(SupervisorEvent::Kind k) {
    for (auto& e : events) {
      if (e.kind == k) return true;
    }
    return false;
  }

  std::vector<PoolSockets> sockets;  // given to start(), one per pool
  asio::io_context io;
  FakeOps ops;
  std::unique_ptr<Supervisor> sup;
  std::vector<SupervisorEvent> events;
};

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

TEST(BinaryUpgrade, TheNewMasterGetsEveryListenerOnceByNumberAndNoWorkerVariables) {
  ArbiterOptions o;
  o.self_exe = "/usr/sbin/arbiterd";
  o.self_argv = {"arbiterd", "-c", "g.toml"};
  std::vector<PoolSockets> sockets = {PoolSockets{{5, 6}, {"a", "b"}, {"127.0.0.1:80", "unix:/run/a"}},
                                      PoolSockets{{6}, {"b"}, {"unix:/run/a"}}};
  SpawnSpec spec = BinaryUpgrade::new_master_spec(
      o, sockets, "/tmp/n/notify", {"PATH=/bin", "LISTEN_FDS=2", "NOTIFY_SOCKET=/x", "GREENFORK_UPGRADE_FDS=old"});
  EXPECT_EQ(spec.exec_path, "/usr/sbin/arbiterd");
  EXPECT_TRUE(spec.keep_fd_numbers);
  EXPECT_FALSE(spec.die_with_parent);
  EXPECT_EQ(spec.listen_fds, (std::vector<int>{5, 6}));
  auto has = [&](const std::string& kv) { return std::find(spec.env.begin(), spec.env.end(), kv) != spec.env.end(); };
  EXPECT_TRUE(has("PATH=/bin"));
  EXPECT_TRUE(has("GREENFORK_UPGRADE_FDS=127.0.0.1:80=5;unix:/run/a=6"));
  EXPECT_TRUE(has("GREENFORK_UPGRADE_NOTIFY=/tmp/n/notify"));
  EXPECT_FALSE(has("LISTEN_FDS=2"));
  EXPECT_FALSE(has("NOTIFY_SOCKET=/x"));
  EXPECT_FALSE(has("GREENFORK_UPGRADE_FDS=old"));
}

TEST(BinaryUpgrade, EndsWithItsWaitersAndIsOverdueAfterItsDeadline) {
  BinaryUpgrade u;
  EXPECT_FALSE(u.running());
  u.started(42, MonoTime(Seconds(100)));
  EXPECT_TRUE(u.is_new_master(42));
  EXPECT_FALSE(u.overdue(MonoTime(Seconds(99))));
  EXPECT_TRUE(u.overdue(MonoTime(Seconds(100))));
  int answered = 0;
  u.wait([&](Status, pid_t) { ++answered; });
  auto waiters = u.end();
  EXPECT_EQ(waiters.size(), 1u);
  EXPECT_FALSE(u.running());
  EXPECT_FALSE(u.is_new_master(42));
  EXPECT_EQ(answered, 0);
}

TEST(WorkerSpawnSpec, TheContractEnvironmentOverArbiterdsOwnWithoutItsPrivateVariables) {
  PoolConfig cfg;
  cfg.name = "api";
  cfg.command = {"true", "x"};
  cfg.env = {{"PATH", "/usr/bin:/bin"}, {"APP_MODE", "prod"}};
  cfg.timeout_seconds = 10;
  PoolSockets sockets{{7, 8}, {"a", "b"}, {"127.0.0.1:1", "unix:/s"}};
  WorkerSlot who{4, "tok", "/run/n/notify", "/run/ctl.sock"};
  auto spec = worker_spawn_spec(cfg, sockets, who, {"HOME=/root", "LISTEN_FDS=9", "ARBITER_WORKER_TOKEN=old"});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->exec_path, "/usr/bin/true");
  EXPECT_EQ(spec->listen_fds, (std::vector<int>{7, 8}));
  auto has = [&](const std::string& kv) { return std::find(spec->env.begin(), spec->env.end(), kv) != spec->env.end(); };
  for (const char* kv : {"HOME=/root", "APP_MODE=prod", "LISTEN_FDS=2", "LISTEN_FDNAMES=a:b",
                         "NOTIFY_SOCKET=/run/n/notify", "ARBITER_SOCKET=/run/ctl.sock", "ARBITER_WORKER_ID=4",
                         "ARBITER_WORKER_TOKEN=tok", "ARBITER_POOL=api", "ARBITER_HEARTBEAT_INTERVAL=5"}) {
    EXPECT_TRUE(has(kv)) << kv;
  }
  EXPECT_FALSE(has("LISTEN_FDS=9"));
  EXPECT_FALSE(has("ARBITER_WORKER_TOKEN=old"));
  cfg.command = {"no-such-command-here"};
  EXPECT_FALSE(worker_spawn_spec(cfg, sockets, who, {}).ok());
}

}  // namespace
}  // namespace greenfork::arbiter
