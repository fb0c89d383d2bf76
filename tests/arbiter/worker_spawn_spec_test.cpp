// Pure builders of what is exec'd: a worker's SpawnSpec, the new master's
// in a binary upgrade, and the upgrade's waiters and deadline.
#include "greenfork/arbiter/binary_upgrade.hpp"
#include "greenfork/arbiter/worker_spawn_spec.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace greenfork::arbiter {
namespace {

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
  // One set of TLS ticket keys for every worker of this arbiterd.
  auto keys_of = [](const SpawnSpec& s) {
    for (const std::string& kv : s.env) {
      if (kv.rfind("ARBITER_TLS_TICKET_KEYS=", 0) == 0) return kv.substr(24);
    }
    return std::string();
  };
  const std::string keys = keys_of(*spec);
  EXPECT_EQ(keys.size(), 160u);
  EXPECT_EQ(keys.find_first_not_of("0123456789abcdef"), std::string::npos);
  WorkerSlot other{5, "tok2", "/run/n/notify", "/run/ctl.sock"};
  EXPECT_EQ(keys_of(*worker_spawn_spec(cfg, sockets, other, {"ARBITER_TLS_TICKET_KEYS=x"})), keys);
  cfg.command = {"no-such-command-here"};
  EXPECT_FALSE(worker_spawn_spec(cfg, sockets, who, {}).ok());
}

}  // namespace
}  // namespace greenfork::arbiter
