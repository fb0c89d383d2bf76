// Control.Watch and Worker.Heartbeat: subscription lifetime, event order,
// first-beat authentication, commands back to the worker, stream end; and
// the HeartbeatClient library against the same server.
#include <cstdlib>

#include "control_fixture.hpp"
#include "greenfork/worker/heartbeat_client.hpp"

namespace greenfork::testing {
namespace {

using StreamTest = ControlFixture;

SupervisorEvent event(SupervisorEvent::Kind kind, std::string pool, pid_t pid,
                      std::string detail = "") {
  SupervisorEvent e;
  e.kind = kind;
  e.unix_time = 1700000000.25;
  e.pool = std::move(pool);
  e.slot = 3;
  e.pid = pid;
  e.detail = std::move(detail);
  return e;
}

TEST_F(StreamTest, WatchDeliversEventsInOrderAndUnsubscribesOnCancel) {
  start();
  auto stub = control();
  grpc::ClientContext ctx;
  auto reader = stub->Watch(&ctx, v1::WatchRequest());
  reader->WaitForInitialMetadata();  // sent once the subscription exists
  loop_.run_sync([&] { ASSERT_EQ(target_.listeners.size(), 1u); });
  loop_.run_sync([&] {
    target_.emit(event(SupervisorEvent::Kind::kWorkerSpawned, "main", 11));
    target_.emit(event(SupervisorEvent::Kind::kWorkerExited, "main", 11, "killed by SIGKILL"));
    target_.emit(event(SupervisorEvent::Kind::kArbiterStopping, "", 0));
  });
  v1::Event got;
  ASSERT_TRUE(reader->Read(&got));
  EXPECT_EQ(got.kind(), v1::Event::WORKER_SPAWNED);
  EXPECT_EQ(got.pid(), 11);
  EXPECT_EQ(got.slot(), 3u);
  EXPECT_DOUBLE_EQ(got.unix_time(), 1700000000.25);
  ASSERT_TRUE(reader->Read(&got));
  EXPECT_EQ(got.kind(), v1::Event::WORKER_EXITED);
  EXPECT_EQ(got.detail(), "killed by SIGKILL");
  ASSERT_TRUE(reader->Read(&got));
  EXPECT_EQ(got.kind(), v1::Event::ARBITER_STOPPING);
  ctx.TryCancel();
  EXPECT_FALSE(reader->Read(&got));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(eventually([&] { return target_.listeners.empty(); }));
}

TEST_F(StreamTest, WatchFiltersByPool) {
  start();
  grpc::ClientContext ctx;
  v1::WatchRequest request;
  request.set_pool("api");
  auto reader = control()->Watch(&ctx, request);
  reader->WaitForInitialMetadata();
  loop_.run_sync([&] {
    target_.emit(event(SupervisorEvent::Kind::kWorkerSpawned, "main", 1));
    target_.emit(event(SupervisorEvent::Kind::kWorkerSpawned, "api", 2));
  });
  v1::Event got;
  ASSERT_TRUE(reader->Read(&got));
  EXPECT_EQ(got.pool(), "api");
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(StreamTest, ShutdownEndsWatchCleanly) {
  start();
  grpc::ClientContext ctx;
  auto reader = control()->Watch(&ctx, v1::WatchRequest());
  reader->WaitForInitialMetadata();
  server_->shutdown();
  v1::Event got;
  EXPECT_FALSE(reader->Read(&got));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(eventually([&] { return target_.listeners.empty(); }));
}

v1::Beat beat(unsigned slot, const std::string& token, uint64_t served = 0) {
  v1::Beat b;
  b.set_slot(slot);
  b.set_token(token);
  b.set_requests_served(served);
  return b;
}

TEST_F(StreamTest, HeartbeatWithAWrongTokenIsUnauthenticated) {
  start();
  grpc::ClientContext ctx;
  auto stream = worker()->Heartbeat(&ctx);
  ASSERT_TRUE(stream->Write(beat(1, "guess")));
  v1::WorkerCommand command;
  EXPECT_FALSE(stream->Read(&command));
  auto status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  loop_.run_sync([&] {
    EXPECT_TRUE(target_.beats.empty());
    EXPECT_TRUE(target_.closed_streams.empty());
  });
}

TEST_F(StreamTest, HeartbeatForAnotherSlotIsPermissionDenied) {
  start();
  grpc::ClientContext ctx;
  auto stream = worker()->Heartbeat(&ctx);
  ASSERT_TRUE(stream->Write(beat(2, "tok-1")));  // slot 1's token claims slot 2
  v1::WorkerCommand command;
  EXPECT_FALSE(stream->Read(&command));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StreamTest, LaterBeatForAnotherSlotIsPermissionDenied) {
  start();
  grpc::ClientContext ctx;
  auto stream = worker()->Heartbeat(&ctx);
  ASSERT_TRUE(stream->Write(beat(1, "tok-1")));
  ASSERT_TRUE(eventually([&] { return target_.beats.size() == 1; }));
  stream->Write(beat(2, ""));
  v1::WorkerCommand command;
  EXPECT_FALSE(stream->Read(&command));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(eventually([&] { return target_.closed_streams == std::vector<unsigned>{1}; }));
}

TEST_F(StreamTest, HeartbeatFirstBeatIsReadyThenBeatsAndCommandsFlow) {
  start();
  grpc::ClientContext ctx;
  auto stream = worker()->Heartbeat(&ctx);
  ASSERT_TRUE(stream->Write(beat(1, "tok-1", 5)));
  stream->WaitForInitialMetadata();
  const auto& metadata = ctx.GetServerInitialMetadata();
  EXPECT_NE(metadata.find("greenfork-accepted"), metadata.end());
  ASSERT_TRUE(stream->Write(beat(0, "", 9)));  // later beats need no slot or token
  ASSERT_TRUE(eventually([&] { return target_.beats.size() == 2; }));
  loop_.run_sync([&] {
    EXPECT_EQ(target_.beats[0].requests_served, 5u);
    EXPECT_EQ(target_.beats[1].slot, 1u);  // filled in from the authenticated stream
    EXPECT_EQ(target_.beats[1].requests_served, 9u);
    ASSERT_EQ(target_.command_sinks.count(1), 1u);
    target_.command_sinks[1](WorkerCommandKind::kReopenLogs);
    target_.command_sinks[1](WorkerCommandKind::kGracefulStop);
  });
  v1::WorkerCommand command;
  ASSERT_TRUE(stream->Read(&command));
  EXPECT_EQ(command.kind(), v1::WorkerCommand::REOPEN_LOGS);
  ASSERT_TRUE(stream->Read(&command));
  EXPECT_EQ(command.kind(), v1::WorkerCommand::GRACEFUL_STOP);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&command));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(eventually([&] { return target_.closed_streams == std::vector<unsigned>{1}; }));
}

TEST_F(StreamTest, HeartbeatClientReadyBeatsAndReceivesCommands) {
  start();
  auto client = worker::HeartbeatClient::connect({path_, 2, "tok-2"});
  ASSERT_TRUE(client.ok()) << client.status().message();
  std::mutex mu;
  std::vector<worker::WorkerCommandKind> received;
  (*client)->on_command([&](worker::WorkerCommandKind kind) {
    std::lock_guard lock(mu);
    received.push_back(kind);
  });
  worker::WorkerStats stats;
  stats.requests_served = 1;
  ASSERT_TRUE((*client)->ready(stats).ok());
  EXPECT_TRUE((*client)->connected());
  for (uint64_t i = 2; i <= 50; ++i) {
    stats.requests_served = i;
    stats.in_flight = 1;
    (*client)->beat(stats);  // merged when faster than the stream: the last one arrives
  }
  ASSERT_TRUE(eventually([&] {
    return !target_.beats.empty() && target_.beats.back().requests_served == 50;
  }));
  loop_.run_sync([&] {
    EXPECT_EQ(target_.beats.front().slot, 2u);
    EXPECT_GT(target_.beats.front().rss_bytes, 0u);  // filled in from /proc
    target_.command_sinks[2](WorkerCommandKind::kGracefulStop);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (!received.empty()) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no command arrived";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(received.front(), worker::WorkerCommandKind::kGracefulStop);
  (*client)->close();
  EXPECT_TRUE(eventually([&] { return target_.closed_streams == std::vector<unsigned>{2}; }));
}

TEST_F(StreamTest, HeartbeatClientReportsARefusedReady) {
  start();
  auto client = worker::HeartbeatClient::connect({"unix:" + path_, 1, "wrong"});
  ASSERT_TRUE(client.ok());
  auto status = (*client)->ready({});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("UNAUTHENTICATED"), std::string::npos) << status.message();
  EXPECT_FALSE((*client)->connected());
}

TEST_F(StreamTest, HeartbeatClientReportsAnAbsentArbiter) {
  auto client = worker::HeartbeatClient::connect({path_, 1, "tok-1"});
  ASSERT_TRUE(client.ok());
  auto status = (*client)->ready({}, 2.0);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path_), std::string::npos) << status.message();
}

TEST(HeartbeatEnvironment, NamesTheMissingVariable) {
  ::setenv("ARBITER_SOCKET", "/tmp/x.sock", 1);
  ::setenv("ARBITER_WORKER_ID", "3", 1);
  ::unsetenv("ARBITER_WORKER_TOKEN");
  auto client = worker::HeartbeatClient::from_environment();
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().message(), "heartbeat: ARBITER_WORKER_TOKEN is not set");
  ::setenv("ARBITER_WORKER_TOKEN", "t", 1);
  ::setenv("ARBITER_WORKER_ID", "x3", 1);
  client = worker::HeartbeatClient::from_environment();
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("not a slot number"), std::string::npos);
  ::setenv("ARBITER_WORKER_ID", "3", 1);
  EXPECT_TRUE(worker::HeartbeatClient::from_environment().ok());
}

}  // namespace
}  // namespace greenfork::testing
