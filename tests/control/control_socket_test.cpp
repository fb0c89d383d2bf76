// The control socket file (mode, live/stale, removal, takeover) and the
// bearer token of the TCP control address.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>

#include <chrono>
#include <fstream>

#include "control_fixture.hpp"

namespace greenfork::testing {
namespace {

using SocketTest = ControlFixture;

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string status_name(v1::Control::Stub& stub) {
  v1::StatusReply reply;
  auto ctx = ControlFixture::context();
  auto status = stub.Status(ctx.get(), v1::StatusRequest(), &reply);
  return status.ok() ? reply.name() : "error: " + status.error_message();
}

TEST_F(SocketTest, SocketIsOwnerOnly) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Nothing else was left in the directory (the temporary name is gone).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(SocketTest, SecondServerOnALivePathIsRefused) {
  start();
  FakeControlTarget other(loop_, "other");
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  auto second = arbiter::ControlServer::start(options, other, loop_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            "control socket " + path_ + ": another arbiterd is listening");
  EXPECT_EQ(status_name(*control()), "fake");  // the first one still serves
}

TEST_F(SocketTest, StaleSocketFileIsReplaced) {
  // A socket file nobody listens on: what a crashed arbiterd leaves behind.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(exists(path_));
  start();
  EXPECT_EQ(status_name(*control()), "fake");
}

TEST_F(SocketTest, RegularFileInTheWayIsAnError) {
  { std::ofstream(path_) << "not a socket"; }
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  auto server = arbiter::ControlServer::start(options, target_, loop_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("not a socket"), std::string::npos);
}

TEST_F(SocketTest, MissingDirectoryIsAnErrorWithErrno) {
  arbiter::ControlServerOptions options;
  options.unix_path = dir_ + "/no/such/dir/a.sock";
  auto server = arbiter::ControlServer::start(options, target_, loop_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("No such file or directory"), std::string::npos)
      << server.status().message();
}

TEST_F(SocketTest, RemovedOnShutdown) {
  start();
  ASSERT_TRUE(exists(path_));
  server_->shutdown();
  EXPECT_FALSE(exists(path_));
}

TEST_F(SocketTest, TakeoverMovesThePathAndTheOldServerLeavesItAlone) {
  start();
  FakeControlTarget next(loop_, "next");
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  options.takeover = true;
  auto second = arbiter::ControlServer::start(options, next, loop_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(status_name(*control()), "next");  // new connections reach the new server
  server_->shutdown();                          // the old master exits
  ASSERT_TRUE(exists(path_));
  EXPECT_EQ(status_name(*control()), "next");
  (*second)->shutdown();
  EXPECT_FALSE(exists(path_));
  loop_.run_sync([] {});
}

TEST_F(SocketTest, TcpWithoutTokenIsRefused) {
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  options.tcp_bind = "127.0.0.1:0";
  auto server = arbiter::ControlServer::start(options, target_, loop_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("without a token"), std::string::npos);
  EXPECT_FALSE(exists(path_));
}

TEST_F(SocketTest, TcpRequiresTheBearerToken) {
  arbiter::ControlServerOptions options;
  options.tcp_bind = "127.0.0.1:0";
  options.token = "s3cret";
  start(options);
  ASSERT_GT(server_->tcp_port(), 0);
  auto stub = control("127.0.0.1:" + std::to_string(server_->tcp_port()));
  v1::StatusReply reply;

  auto none = context();
  EXPECT_EQ(stub->Status(none.get(), v1::StatusRequest(), &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = context();
  wrong->AddMetadata("authorization", "Bearer s3cre7");
  EXPECT_EQ(stub->Status(wrong.get(), v1::StatusRequest(), &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto scheme = context();
  scheme->AddMetadata("authorization", "s3cret");
  EXPECT_EQ(stub->Status(scheme.get(), v1::StatusRequest(), &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto watch_ctx = context();
  auto reader = stub->Watch(watch_ctx.get(), v1::WatchRequest());
  v1::Event event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  auto right = context();
  right->AddMetadata("authorization", "Bearer s3cret");
  auto status = stub->Status(right.get(), v1::StatusRequest(), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.pid(), 4242);
  // Unauthenticated calls never reached the supervisor.
  loop_.run_sync([&] { EXPECT_TRUE(target_.listeners.empty()); });
}

TEST_F(SocketTest, TcpPortInUseIsAnErrorWithErrno) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  options.tcp_bind = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  options.token = "t";
  auto server = arbiter::ControlServer::start(options, target_, loop_);
  ::close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("Address already in use"), std::string::npos)
      << server.status().message();
  EXPECT_FALSE(exists(path_));
}

// Fault 2 of issue 14: a flood of TCP control connections must not take
// every descriptor. arbiterd accepts them itself, at most
// tcp_max_connections at once (more are closed at once), and gRPC closes a
// connection that had no call for tcp_idle_timeout, which frees its slot.
TEST_F(SocketTest, TcpConnectionsAreCappedAndIdleOnesGiveTheirSlotBack) {
  arbiter::ControlServerOptions options;
  options.tcp_bind = "127.0.0.1:0";
  options.token = "s3cret-s3cret-s3cret";
  options.tcp_max_connections = 1;
  options.tcp_idle_timeout = std::chrono::milliseconds(3000);
  start(options);
  const std::string target = "127.0.0.1:" + std::to_string(server_->tcp_port());
  auto channel = [&] {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  };
  auto call = [](const std::shared_ptr<grpc::Channel>& ch) {
    v1::StatusReply reply;
    auto ctx = context();
    ctx->AddMetadata("authorization", "Bearer s3cret-s3cret-s3cret");
    return v1::Control::NewStub(ch)->Status(ctx.get(), v1::StatusRequest(), &reply).ok();
  };
  auto first = channel();
  ASSERT_TRUE(call(first));

  // The one slot is taken: another connection is accepted and closed at once.
  int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(server_->tcp_port()));
  ASSERT_EQ(::connect(raw, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval two_seconds{2, 0};
  ::setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof(two_seconds));
  char byte = 0;
  EXPECT_LE(::recv(raw, &byte, 1, 0), 0) << "a connection over the cap was served";
  ::close(raw);
  EXPECT_EQ(status_name(*control()), "fake");  // the unix socket is not affected

  // Idle for tcp_idle_timeout: the server closes the first connection ...
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (first->GetState(false) == GRPC_CHANNEL_READY && std::chrono::steady_clock::now() < deadline) {
    first->WaitForStateChange(GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  EXPECT_NE(first->GetState(false), GRPC_CHANNEL_READY);
  // ... and a new client gets its slot.
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < deadline) served = call(channel());
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace greenfork::testing
