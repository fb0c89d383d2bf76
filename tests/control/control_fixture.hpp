// An in-process ControlServer on a unix socket in a fresh temporary
// directory, in front of a FakeControlTarget on a ThreadLoop.
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "fake_control_target.hpp"
#include "greenfork/arbiter/control_server.hpp"
#include "greenfork/v1/greenfork.grpc.pb.h"

namespace greenfork::testing {

namespace v1 = greenfork::v1;

class ControlFixture : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/gf-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/arbiterd.sock";
  }

  void TearDown() override {
    if (server_) server_->shutdown();
    server_.reset();
    // Closures posted before shutdown returned still reference target_.
    loop_.run_sync([] {});
    int off_loop = -1;
    loop_.run_sync([&] { off_loop = target_.off_loop_calls; });
    EXPECT_EQ(off_loop, 0) << "ControlTarget called off the loop thread";
    std::filesystem::remove_all(dir_);
  }

  void start(arbiter::ControlServerOptions options = {}) {
    if (options.unix_path.empty()) options.unix_path = path_;
    auto server = arbiter::ControlServer::start(options, target_, loop_);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(*server);
  }

  std::unique_ptr<v1::Control::Stub> control(const std::string& target = "") {
    return v1::Control::NewStub(grpc::CreateChannel(target.empty() ? "unix:" + path_ : target,
                                                    grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<v1::Worker::Stub> worker() {
    return v1::Worker::NewStub(
        grpc::CreateChannel("unix:" + path_, grpc::InsecureChannelCredentials()));
  }

  static std::unique_ptr<grpc::ClientContext> context(double seconds = 5) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
    return ctx;
  }

  // Polls `predicate` on the loop thread until it holds (or 5 s pass).
  bool eventually(const std::function<bool()>& predicate) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      bool ok = false;
      loop_.run_sync([&] { ok = predicate(); });
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::string path_;
  ThreadLoop loop_;
  FakeControlTarget target_{loop_};
  std::unique_ptr<arbiter::ControlServer> server_;
};

}  // namespace greenfork::testing
