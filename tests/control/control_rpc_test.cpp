// Control's unary RPCs through a real gRPC server: every field crosses the
// wire, every StatusCode becomes its gRPC status, replies wait for the loop.
#include <future>

#include "control_fixture.hpp"

namespace greenfork::testing {
namespace {

using RpcTest = ControlFixture;

TEST_F(RpcTest, StatusCarriesEveryField) {
  start();
  v1::StatusReply reply;
  auto status = control()->Status(context().get(), v1::StatusRequest(), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.pid(), 4242);
  EXPECT_EQ(reply.name(), "fake");
  ASSERT_EQ(reply.pools_size(), 1);
  const auto& pool = reply.pools(0);
  EXPECT_EQ(pool.name(), "main");
  EXPECT_EQ(pool.command_size(), 2);
  EXPECT_EQ(pool.state(), v1::POOL_STATE_RELOADING);
  EXPECT_EQ(pool.restarts(), 3u);
  EXPECT_EQ(pool.heartbeat(), "grpc");
  EXPECT_EQ(pool.max_workers(), 8u);
  ASSERT_EQ(pool.workers_size(), 2);
  EXPECT_EQ(pool.workers(0).state(), v1::WORKER_STATE_READY);
  EXPECT_EQ(pool.workers(0).requests_served(), 77u);
  EXPECT_EQ(pool.workers(0).rss_bytes(), 123456u);
  EXPECT_EQ(pool.workers(0).status_text(), "serving");
  EXPECT_EQ(pool.workers(1).state(), v1::WORKER_STATE_STARTING);
  EXPECT_LT(pool.workers(1).last_heartbeat_age_seconds(), 0);
}

TEST_F(RpcTest, ScaleRelativeAndAbsolute) {
  start();
  auto stub = control();
  v1::ScaleRequest request;
  request.set_mode(v1::ScaleRequest::MODE_RELATIVE);
  request.set_delta(3);
  v1::ScaleReply reply;
  ASSERT_TRUE(stub->Scale(context().get(), request, &reply).ok());
  EXPECT_EQ(reply.pool(), "main");
  EXPECT_EQ(reply.previous(), 2u);
  EXPECT_EQ(reply.desired(), 5u);
  request.set_mode(v1::ScaleRequest::MODE_ABSOLUTE);
  request.set_count(1);
  ASSERT_TRUE(stub->Scale(context().get(), request, &reply).ok());
  EXPECT_EQ(reply.previous(), 5u);
  EXPECT_EQ(reply.desired(), 1u);
}

TEST_F(RpcTest, ScaleErrorsKeepTheirCodeAndMessage) {
  start();
  auto stub = control();
  v1::ScaleRequest request;
  request.set_pool("nope");
  request.set_mode(v1::ScaleRequest::MODE_RELATIVE);
  request.set_delta(1);
  v1::ScaleReply reply;
  auto status = stub->Scale(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no pool named nope");

  request.set_pool("main");
  request.set_delta(-3);
  status = stub->Scale(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("must be 0..8"), std::string::npos);

  request.set_mode(v1::ScaleRequest::MODE_ABSOLUTE);
  request.set_count(9);
  status = stub->Scale(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RpcTest, ScaleWaitRepliesWhenTheLoopCompletes) {
  start();
  auto stub = control();
  v1::ScaleRequest request;
  request.set_mode(v1::ScaleRequest::MODE_RELATIVE);
  request.set_delta(1);
  request.set_wait(true);
  v1::ScaleReply reply;
  auto ctx = context();
  auto call = std::async(std::launch::async,
                         [&] { return stub->Scale(ctx.get(), request, &reply); });
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(target_.pending_scale); }));
  EXPECT_EQ(call.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  loop_.run_sync([&] { target_.pending_scale(); });
  ASSERT_TRUE(call.get().ok());
  EXPECT_EQ(reply.desired(), 3u);
}

TEST_F(RpcTest, ShutdownEndsWaitingCallsWithUnavailable) {
  start();
  auto stub = control();
  v1::ScaleRequest request;
  request.set_mode(v1::ScaleRequest::MODE_RELATIVE);
  request.set_delta(1);
  request.set_wait(true);
  v1::ScaleReply reply;
  auto ctx = context();
  auto call = std::async(std::launch::async,
                         [&] { return stub->Scale(ctx.get(), request, &reply); });
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(target_.pending_scale); }));
  server_->shutdown();
  auto status = call.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // A completion after shutdown is harmless.
  loop_.run_sync([&] { target_.pending_scale(); });
}

TEST_F(RpcTest, ReloadRunningIsFailedPreconditionAndRollbackIsAborted) {
  start();
  auto stub = control();
  v1::ReloadRequest request;
  v1::ReloadReply reply;
  ASSERT_TRUE(stub->Reload(context().get(), request, &reply).ok());
  ASSERT_EQ(reply.pools_size(), 1);
  EXPECT_FALSE(reply.completed());
  auto status = stub->Reload(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  request.set_pool("other");
  EXPECT_EQ(stub->Reload(context().get(), request, &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RpcTest, RolledBackReloadIsAbortedWithTheReason) {
  FakeControlTarget broken(loop_, "broken");
  arbiter::ControlServerOptions options;
  options.unix_path = path_;
  auto server = arbiter::ControlServer::start(options, broken, loop_);
  ASSERT_TRUE(server.ok()) << server.status().message();
  v1::ReloadRequest request;
  request.set_wait(true);
  v1::ReloadReply reply;
  auto status = control()->Reload(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(status.error_message().find("rolled back"), std::string::npos);
  (*server)->shutdown();
  loop_.run_sync([] {});
}

TEST_F(RpcTest, StopReopenSignalUpgrade) {
  start();
  auto stub = control();
  v1::StopRequest stop;
  stop.set_graceful(true);
  v1::StopReply stop_reply;
  ASSERT_TRUE(stub->Stop(context().get(), stop, &stop_reply).ok());
  v1::ReopenLogsReply reopen_reply;
  ASSERT_TRUE(stub->ReopenLogs(context().get(), v1::ReopenLogsRequest(), &reopen_reply).ok());
  loop_.run_sync([&] {
    EXPECT_EQ(target_.stops, 1);
    EXPECT_TRUE(target_.last_stop_graceful);
    EXPECT_EQ(target_.reopens, 1);
  });

  v1::SignalRequest sig;
  sig.set_pool("main");
  sig.set_signal("HUP");
  v1::SignalReply sig_reply;
  ASSERT_TRUE(stub->Signal(context().get(), sig, &sig_reply).ok());
  EXPECT_EQ(sig_reply.workers_signalled(), 2u);
  sig.set_signal("NOPE");
  EXPECT_EQ(stub->Signal(context().get(), sig, &sig_reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  sig.set_pool("x");
  EXPECT_EQ(stub->Signal(context().get(), sig, &sig_reply).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::UpgradeRequest up;
  up.set_wait(true);
  v1::UpgradeReply up_reply;
  ASSERT_TRUE(stub->Upgrade(context().get(), up, &up_reply).ok());
  EXPECT_EQ(up_reply.new_master_pid(), 5151);
}

}  // namespace
}  // namespace greenfork::testing
