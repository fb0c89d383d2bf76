// The gateway on several app threads at once (wsgi.multithread): slow
// requests overlap, and the app pool's turns (the GIL kept across
// back-to-back requests) still let a sleeping request's neighbours run.
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "gateway_fixture.hpp"

namespace greenfork::wsgi::testing {
namespace {

// Runs `body` on 4 app threads at once (thread_started .. thread_stopping
// around it); each must return 200. The wall time they took.
std::chrono::steady_clock::duration on_four_app_threads(worker::Application& app,
                                                        const std::function<int()>& body) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      app.thread_started();
      statuses[i] = body();
      app.thread_stopping();
    });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
  return std::chrono::steady_clock::now() - t0;
}

TEST(GatewayThreads, SlowRequestsRunConcurrently) {
  auto loaded = load("gateway_app:validated", 4);
  ASSERT_TRUE(loaded.ok());
  worker::Application& app = **loaded;
  auto elapsed = on_four_app_threads(app, [&app] {
    int status = run(app, make_request("GET", "/slow?ms=400")).out.status;
    for (int k = 0; k < 200; ++k) {
      if (run(app, make_request("GET", "/hello")).out.body != "hello\n") status = -1;
    }
    return status;
  });
  EXPECT_LT(elapsed, std::chrono::milliseconds(1400));  // 4 x 400 ms if serialized
  Exchanged r = run(app, make_request("GET", "/environ"));
  EXPECT_TRUE(has(r.out.body, R"("wsgi.multithread": true)"));
}

// The app pool's turns: each thread holds the GIL across back-to-back
// requests (take_turn .. end_turn), and a request that sleeps in Python
// still lets the other threads run theirs. A writer with room() takes the
// response with the GIL kept.
TEST(GatewayThreads, TurnsKeptAcrossRequests) {
  auto loaded = load("gateway_app:validated", 4);
  ASSERT_TRUE(loaded.ok());
  worker::Application& app = **loaded;
  struct RoomyWriter : FakeWriter {
    size_t room() const override { return 64 * 1024; }
  };
  auto elapsed = on_four_app_threads(app, [&app] {
    app.take_turn();
    app.take_turn();  // a second call while holding it is a no-op
    int status = run(app, make_request("GET", "/slow?ms=400")).out.status;
    for (int k = 0; k < 100; ++k) {
      worker::Request req = make_request("GET", "/hello");
      FakeBody reader("", 7);
      req.body = &reader;
      RoomyWriter out;
      app.handle(req, out);
      if (out.body != "hello\n") status = -1;
    }
    app.end_turn();
    app.end_turn();
    return status;
  });
  EXPECT_LT(elapsed, std::chrono::milliseconds(1400));  // 4 x 400 ms if serialized
}

}  // namespace
}  // namespace greenfork::wsgi::testing
