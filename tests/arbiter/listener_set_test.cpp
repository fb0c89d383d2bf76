// ListenerSet: dedupe, adoption of inherited sockets (fd://N and a binary
// upgrade's GREENFORK_UPGRADE_FDS), unix socket file ownership, reload.
#include "greenfork/arbiter/listener_set.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "greenfork/contract.hpp"

namespace greenfork::arbiter {
namespace {

// A listening loopback socket on a kernel-chosen port; returns the fd.
int listening_socket(uint16_t* port) {
  auto fd = bind_listener(*parse_listen_address("127.0.0.1:0"), 8, 0);
  EXPECT_TRUE(fd.ok());
  *port = inspect_listener(*fd)->port;
  return *fd;
}

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

class ListenerSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gf-ls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ListenerSetTest, IdenticalSpecsShareOneSocket) {
  uint16_t port = 0;
  int probe = listening_socket(&port);
  ::close(probe);  // the port is free again; bind it through the set
  std::string spec = "127.0.0.1:" + std::to_string(port);
  auto set = ListenerSet::open({spec, "tcp://" + spec, "unix:" + dir_ + "/a.sock"}, 16, 0);
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->all().size(), 2u);
  EXPECT_EQ(set->all()[0].spec, spec);
  EXPECT_EQ(set->all()[0].fd_name, "127.0.0.1%3A" + std::to_string(port));
  EXPECT_EQ(set->find("tcp://" + spec), &set->all()[0]);
  EXPECT_EQ(set->all()[1].unix_path, dir_ + "/a.sock");
  EXPECT_EQ(set->find("127.0.0.1:1"), nullptr);
}

TEST_F(ListenerSetTest, UnixFilesRemovedOnlyWhenAsked) {
  std::string path = dir_ + "/b.sock";
  {
    auto set = ListenerSet::open({"unix:" + path}, 16, 0);
    ASSERT_TRUE(set.ok()) << set.status().message();
  }  // destructor: fd closed, file kept (a new master may own it)
  EXPECT_TRUE(std::filesystem::exists(path));
  auto set = ListenerSet::open({"unix:" + path}, 16, 0);  // stale: replaced
  ASSERT_TRUE(set.ok()) << set.status().message();
  set->close_all(true);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenerSetTest, FilesGoWithTheSetWhenAsked) {
  std::string path = dir_ + "/d.sock";
  {
    auto set = ListenerSet::open({"unix:" + path}, 16, 0);
    ASSERT_TRUE(set.ok()) << set.status().message();
    set->remove_files_when_destroyed();  // arbiterd's error paths
    ListenerSet moved = std::move(*set);
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenerSetTest, FailureLeavesNothingBehind) {
  std::string path = dir_ + "/c.sock";
  auto set = ListenerSet::open({"unix:" + path, "127.0.0.1:notaport"}, 16, 0);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("bad address '127.0.0.1:notaport'"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenerSetTest, AdoptsFdSpecOnlyIfListening) {
  uint16_t port = 0;
  int fd = listening_socket(&port);
  auto set = ListenerSet::open({"fd://" + std::to_string(fd)}, 16, 0);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->all()[0].fd(), fd);
  EXPECT_EQ(set->all()[0].address.port, port);
  EXPECT_TRUE(set->all()[0].unix_path.empty());
  set->close_all(true);

  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  auto bad = ListenerSet::open({"fd://" + std::to_string(pipefd[0])}, 16, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a socket"), std::string::npos);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

TEST_F(ListenerSetTest, UpgradeFdsAdoptedByCanonicalSpecAndLeftoversClosed) {
  uint16_t port = 0, other_port = 0;
  int fd = listening_socket(&port);
  int unused = listening_socket(&other_port);
  std::string spec = "127.0.0.1:" + std::to_string(port);
  std::string env = spec + "=" + std::to_string(fd) + ";127.0.0.1:" + std::to_string(other_port) +
                    "=" + std::to_string(unused);
  ::setenv(contract::kUpgradeFds, env.c_str(), 1);
  auto set = ListenerSet::open({"tcp://" + spec}, 16, 0);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->all()[0].fd(), fd);  // adopted, not re-bound
  EXPECT_EQ(std::getenv(contract::kUpgradeFds), nullptr);
  EXPECT_FALSE(fd_open(unused));
  EXPECT_EQ(set->upgrade_env_value(), spec + "=" + std::to_string(fd));
}

TEST_F(ListenerSetTest, AddAndCloseExceptOnReload) {
  auto set = ListenerSet::open({"unix:" + dir_ + "/d.sock"}, 16, 0);
  ASSERT_TRUE(set.ok()) << set.status().message();
  int kept_fd = set->all()[0].fd();
  ASSERT_TRUE(set->add({"unix:" + dir_ + "/d.sock", "unix:" + dir_ + "/e.sock"}, 16, 0).ok());
  ASSERT_EQ(set->all().size(), 2u);
  EXPECT_EQ(set->all()[0].fd(), kept_fd);
  Status bad = set->add({"unix:" + dir_ + "/f.sock", "unix:" + dir_ + "/e.sock", "x:y:z"}, 16, 0);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(set->all().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/f.sock"));
  set->close_except({"unix:" + dir_ + "/e.sock"}, true);
  ASSERT_EQ(set->all().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/d.sock"));
  EXPECT_FALSE(fd_open(kept_fd));
}

TEST_F(ListenerSetTest, FailedUpgradeKeepsTheOldMastersSocketFile) {
  std::string path = dir_ + "/old.sock";
  auto fd = bind_listener(*parse_listen_address("unix:" + path), 8, 0);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  std::string env = "unix:" + path + "=" + std::to_string(*fd);
  ::setenv(contract::kUpgradeFds, env.c_str(), 1);
  auto set = ListenerSet::open({"unix:" + path, "127.0.0.1:99999"}, 16, 0);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(std::filesystem::exists(path)) << "an adopted socket's file is not ours to remove";
}

}  // namespace
}  // namespace greenfork::arbiter
