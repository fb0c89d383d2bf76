// Listen address parsing (no I/O) and binding on loopback / a temp dir.
#include "greenfork/listen_address.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace greenfork {
namespace {

ListenAddress parse_ok(const std::string& text) {
  auto a = parse_listen_address(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().message();
  return a.ok() ? *a : ListenAddress{};
}

std::string parse_error(const std::string& text) {
  auto a = parse_listen_address(text);
  EXPECT_FALSE(a.ok()) << text << " parsed as " << (a.ok() ? a->to_string() : "");
  return a.ok() ? "" : a.status().message();
}

TEST(ListenAddress, HostAndPort) {
  ListenAddress a = parse_ok("127.0.0.1:8000");
  EXPECT_EQ(a.kind, ListenAddress::kTcp);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8000);
  EXPECT_FALSE(a.ipv6);
  EXPECT_EQ(a.to_string(), "127.0.0.1:8000");
  EXPECT_EQ(parse_ok("localhost:80").host, "localhost");
  EXPECT_EQ(parse_ok("tcp://127.0.0.1:8000"), a);
}

TEST(ListenAddress, BracketedIpv6) {
  ListenAddress a = parse_ok("[::1]:9000");
  EXPECT_TRUE(a.ipv6);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9000);
  EXPECT_EQ(a.to_string(), "[::1]:9000");
  EXPECT_EQ(parse_ok("[::]").port, kDefaultPort);
}

TEST(ListenAddress, GunicornDefaults) {
  EXPECT_EQ(parse_ok("example.org").to_string(), "example.org:8000");
  EXPECT_EQ(parse_ok("8080").to_string(), "0.0.0.0:8080");
  EXPECT_EQ(parse_ok(":8080").to_string(), "0.0.0.0:8080");
}

TEST(ListenAddress, UnixAndFd) {
  ListenAddress u = parse_ok("unix:/run/app.sock");
  EXPECT_EQ(u.kind, ListenAddress::kUnix);
  EXPECT_EQ(u.path, "/run/app.sock");
  EXPECT_EQ(parse_ok("unix:///run/app.sock").path, "/run/app.sock");
  EXPECT_EQ(u.fd_name(), "unix%3A/run/app.sock");
  ListenAddress f = parse_ok("fd://3");
  EXPECT_EQ(f.kind, ListenAddress::kFd);
  EXPECT_EQ(f.fd, 3);
  EXPECT_EQ(f.to_string(), "fd://3");
}

TEST(ListenAddress, Errors) {
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("127.0.0.1:http").find("port 'http' is not a number"), std::string::npos);
  EXPECT_NE(parse_error("127.0.0.1:70000").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("::1:8000").find("need brackets"), std::string::npos);
  EXPECT_NE(parse_error("[::1:8000").find("missing ']'"), std::string::npos);
  EXPECT_NE(parse_error("[nope]:80").find("not an IPv6 address"), std::string::npos);
  EXPECT_NE(parse_error("unix:").find("missing socket path"), std::string::npos);
  EXPECT_NE(parse_error("unix:/" + std::string(200, 'x')).find("longer than"), std::string::npos);
  EXPECT_NE(parse_error("fd://x").find("fd://N"), std::string::npos);
  EXPECT_EQ(parse_error("bad host:80").rfind("bad address 'bad host:80'", 0), 0u);
}

TEST(ListenAddress, SameEndpoint) {
  EXPECT_TRUE(same_endpoint(parse_ok("[0:0::1]:80"), parse_ok("[::1]:80")));
  EXPECT_FALSE(same_endpoint(parse_ok("127.0.0.1:80"), parse_ok("127.0.0.1:81")));
  EXPECT_TRUE(same_endpoint(parse_ok("unix:/a"), parse_ok("unix:///a")));
}

class Bind : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gf-la-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(Bind, TcpOnAnyPortAndInspect) {
  auto fd = bind_listener(parse_ok("127.0.0.1:0"), 16, 0);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  EXPECT_TRUE(::fcntl(*fd, F_GETFD) & FD_CLOEXEC);
  auto seen = inspect_listener(*fd);
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  EXPECT_EQ(seen->host, "127.0.0.1");
  EXPECT_NE(seen->port, 0);
  // The port is now taken: a second bind says which and why.
  auto again = bind_listener(*seen, 16, 0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "bind " + seen->to_string() + ": Address already in use");
  ::close(*fd);
}

TEST_F(Bind, Ipv6OnlyLoopback) {
  auto fd = bind_listener(parse_ok("[::1]:0"), 16, 0);
  if (!fd.ok()) GTEST_SKIP() << "no IPv6 loopback: " << fd.status().message();
  int v6only = 0;
  socklen_t len = sizeof v6only;
  ASSERT_EQ(::getsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
  EXPECT_EQ(v6only, 1);
  EXPECT_TRUE(inspect_listener(*fd)->ipv6);
  ::close(*fd);
}

TEST_F(Bind, UnixStaleFileReplacedLiveRefused) {
  ListenAddress a = parse_ok("unix:" + dir_ + "/s.sock");
  auto first = bind_listener(a, 16, 0077);
  ASSERT_TRUE(first.ok()) << first.status().message();
  struct stat st{};
  ASSERT_EQ(::stat(a.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // umask applied
  auto live = bind_listener(a, 16, 0);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().message(), a.to_string() + ": already in use by a running process");
  ::close(*first);  // the file stays behind: stale now
  auto second = bind_listener(a, 16, 0);
  ASSERT_TRUE(second.ok()) << second.status().message();
  ::close(*second);
}

TEST_F(Bind, UnixNeverRemovesARegularFile) {
  std::string path = dir_ + "/plain";
  { FILE* f = std::fopen(path.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  auto fd = bind_listener(parse_ok("unix:" + path), 16, 0);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(Bind, InspectRejectsNonListeners) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  auto r = inspect_listener(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not listening"), std::string::npos);
  ::close(s);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  r = inspect_listener(pipefd[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "fd://" + std::to_string(pipefd[0]) + ": not a socket");
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

}  // namespace
}  // namespace greenfork
