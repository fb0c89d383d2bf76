// A reload of the config file with new and removed pools and changed binds
// (fake ProcessOps, fake listeners).
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "supervisor_fixture.hpp"

namespace greenfork::arbiter {
namespace {

class PoolChangesTest : public SupervisorTest {
 protected:
  void SetUp() override {
    sockets = {PoolSockets{{10}, {"web"}, {"127.0.0.1:1000"}}};
    open_listeners = [this](const std::vector<std::string>& binds) -> StatusOr<PoolSockets> {
      PoolSockets ps;
      for (const auto& b : binds) {
        if (b == "127.0.0.1:1") return Status::error("bind 127.0.0.1:1: Permission denied");
        if (!fds.count(b)) fds[b] = next_fd++;
        ps.fds.push_back(fds[b]);
        ps.names.push_back(b);
        ps.specs.push_back(b);
      }
      ++opened;
      return ps;
    };
    close_listeners_except = [this](const std::vector<std::string>& in_use) {
      for (auto it = fds.begin(); it != fds.end();) {
        it = std::count(in_use.begin(), in_use.end(), it->first) ? std::next(it) : fds.erase(it);
      }
      ++closes;
      last_in_use = in_use;
    };
    fds["127.0.0.1:1000"] = 10;
  }
  PoolConfig web() {
    PoolConfig p = pool("web", 1);
    p.binds = {"127.0.0.1:1000"};
    return p;
  }
  PoolConfig api() {
    PoolConfig p = pool("api", 2);
    p.binds = {"127.0.0.1:2000"};
    return p;
  }
  std::string env(pid_t pid, const std::string& name) {
    for (auto& kv : ops.env_of(pid)) {
      if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
    }
    return "";
  }
  std::vector<int> listen_fds(pid_t pid) {
    for (auto& [p, spec] : ops.spawned) {
      if (p == pid) return spec.listen_fds;
    }
    return {};
  }
  void reload_file() {
    ::raise(SIGHUP);
    advance(0);
  }

  Config file;
  std::map<std::string, int> fds;
  int next_fd = 20;
  int opened = 0;
  int closes = 0;
  std::vector<std::string> last_in_use;
};

TEST_F(PoolChangesTest, ANewPoolStartsOnItsOwnListenersAndARemovedOneDrainsAndGoes) {
  file.pools = {web()};
  start({web()}, [this]() -> StatusOr<Config> { return file; });
  beat(100);
  file.pools = {web(), api()};
  reload_file();
  ASSERT_EQ(sup->status().pools.size(), 2u);
  const PoolSnapshot added = snap(1);
  EXPECT_EQ(added.name, "api");
  EXPECT_EQ(added.desired, 2u);
  // api starts two workers (101, 102) on the new listener, web rolls (103).
  ASSERT_EQ(ops.spawned.size(), 4u);
  EXPECT_EQ(env(101, "ARBITER_POOL"), "api");
  EXPECT_EQ(env(102, "ARBITER_POOL"), "api");
  EXPECT_EQ(listen_fds(102), (std::vector<int>{fds.at("127.0.0.1:2000")}));
  EXPECT_EQ(env(103, "ARBITER_POOL"), "web");
  EXPECT_EQ(listen_fds(103), (std::vector<int>{10}));  // web's listener is untouched
  beat(101);
  beat(102);
  beat(103);
  advance(0);
  EXPECT_EQ(snap(1).ready, 2u);

  // api leaves the file: its workers drain (TERM), then it is gone with its listener.
  file.pools = {web()};
  reload_file();
  EXPECT_EQ(std::count(ops.signals.begin(), ops.signals.end(), std::pair<pid_t, int>{101, SIGTERM}), 1);
  EXPECT_EQ(std::count(ops.signals.begin(), ops.signals.end(), std::pair<pid_t, int>{102, SIGTERM}), 1);
  advance(0);
  ASSERT_EQ(sup->status().pools.size(), 1u);
  EXPECT_EQ(snap(0).name, "web");
  EXPECT_EQ(fds.count("127.0.0.1:2000"), 0u);
  EXPECT_EQ(fds.count("127.0.0.1:1000"), 1u);
}

TEST_F(PoolChangesTest, AChangedBindOpensFirstAndTheOldListenerClosesAfterTheRoll) {
  file.pools = {web()};
  start({web()}, [this]() -> StatusOr<Config> { return file; });
  beat(100);
  PoolConfig moved = web();
  moved.binds = {"127.0.0.1:3000"};
  file.pools = {moved};
  reload_file();
  ASSERT_EQ(ops.spawned.size(), 2u);
  EXPECT_EQ(listen_fds(101), (std::vector<int>{fds.at("127.0.0.1:3000")}));
  EXPECT_EQ(fds.count("127.0.0.1:1000"), 1u);  // still open: the old worker serves on it
  EXPECT_TRUE(ops.alive[100]);
  beat(101);
  advance(0);
  EXPECT_FALSE(ops.alive[100]);  // TERM once its successor was READY
  EXPECT_EQ(fds.count("127.0.0.1:1000"), 0u);
  EXPECT_EQ(snap().binds, (std::vector<std::string>{"127.0.0.1:3000"}));
}

TEST_F(PoolChangesTest, AFileWhoseListenersCannotOpenChangesNothing) {
  file.pools = {web()};
  start({web()}, [this]() -> StatusOr<Config> { return file; });
  beat(100);
  PoolConfig bad = api();
  bad.binds = {"127.0.0.1:1"};
  PoolConfig moved = web();
  moved.binds = {"127.0.0.1:3000"};
  file.pools = {moved, bad};
  reload_file();
  EXPECT_EQ(ops.spawned.size(), 1u);  // nothing started, nothing rolled
  EXPECT_EQ(sup->status().pools.size(), 1u);
  EXPECT_EQ(snap().state, PoolState::kRunning);
  EXPECT_EQ(fds.count("127.0.0.1:3000"), 0u);  // what was opened for it is closed again
  // Through the Reload RPC the caller gets the reason.
  Status result;
  sup->reload("", true, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_EQ(result.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.message().find("bind 127.0.0.1:1: Permission denied; keeping the running configuration"),
            std::string::npos)
      << result.message();
}

// HUP and a Reload of the whole file set arbiterd's error log up again with
// the file's values; one that cannot be applied keeps the old setup and the
// workers still roll. A Reload of one pool leaves the error log alone.
TEST_F(PoolChangesTest, AReloadOfTheFileSetsTheErrorLogUpAgainAndAFailureDoesNotStopTheRoll) {
  std::vector<Config> applied;
  apply_logging = [&applied](const Config& c) -> Status {
    applied.push_back(c);
    if (c.error_logfile == "/no/such/dir/x.log") return Status::error("open error log /no/such/dir/x.log");
    return {};
  };
  file.pools = {web()};
  file.log_level = "debug";
  file.log_format = "json";
  start({web()}, [this]() -> StatusOr<Config> { return file; });
  beat(100);
  reload_file();
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].log_level, "debug");
  EXPECT_EQ(applied[0].log_format, "json");
  ASSERT_EQ(ops.spawned.size(), 2u);  // web rolls (101)
  beat(101);
  advance(0);

  file.error_logfile = "/no/such/dir/x.log";
  reload_file();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].error_logfile, "/no/such/dir/x.log");
  EXPECT_EQ(ops.spawned.size(), 3u);  // the workers roll all the same (102)
  beat(102);
  advance(0);

  Status result;
  sup->reload("web", false, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(applied.size(), 2u);
  ASSERT_EQ(ops.spawned.size(), 4u);  // web rolls (103), the error log stays
  beat(103);
  advance(0);
  sup->reload("", false, [&](Status o, std::vector<std::string>) { result = o; });
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(applied.size(), 3u);
}

}  // namespace
}  // namespace greenfork::arbiter
