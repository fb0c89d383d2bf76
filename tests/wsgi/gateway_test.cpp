// The gateway against fake engine objects: environ, wsgi.input,
// start_response validation, bodies, errors and client disconnects. Every
// case runs on the plain app and on it wrapped in wsgiref.validate.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway_fixture.hpp"

namespace greenfork::wsgi::testing {
namespace {

class Gateway : public ::testing::TestWithParam<const char*> {
 protected:
  static worker::Application& app_for(const std::string& spec) {
    static std::map<std::string, std::unique_ptr<worker::Application>> apps;
    auto& slot = apps[spec];
    if (!slot) {
      auto loaded = load(spec);
      EXPECT_TRUE(loaded.ok()) << loaded.status().message();
      slot = std::move(*loaded);
    }
    return *slot;
  }
  worker::Application& app() { return app_for(GetParam()); }
  bool validated() const { return std::string(GetParam()).find("validated") != std::string::npos; }
};

bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST_P(Gateway, Hello) {
  Exchanged r = run(app(), make_request("GET", "/hello"));
  EXPECT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.reason, "OK");
  EXPECT_EQ(r.out.header("Content-Type"), "text/plain");
  EXPECT_EQ(r.out.body, "hello\n");
  EXPECT_TRUE(r.out.finished);
  EXPECT_EQ(r.out.writes, 1);
  EXPECT_EQ(r.out.flushes, 0);  // a list is written whole, then finished
}

TEST_P(Gateway, EnvironCarriesEveryCgiVariable) {
  auto req = make_request("POST", "/environ/a%20b/%C3%A9?x=1&y=%20",
                          {{"Host", "example.org"}, {"X-Multi", "1"}, {"x-multi", "2"},
                           {"Content-Type", "text/plain"}, {"Content-Length", "3"}});
  Exchanged r = run(app(), req, "abc");
  ASSERT_EQ(r.out.status, 200) << r.out.body << host().all_errors();
  const std::string& b = r.out.body;
  EXPECT_TRUE(has(b, R"("REQUEST_METHOD": "POST")")) << b;
  EXPECT_TRUE(has(b, R"("SCRIPT_NAME": "")"));
  EXPECT_TRUE(has(b, R"("PATH_INFO": "/environ/a b/\u00c3\u00a9")")) << b;
  EXPECT_TRUE(has(b, R"("path_info_latin1": [47, 101, 110, 118, 105, 114, 111, 110, 47, 97, 32, 98, 47, 195, 169])")) << b;
  EXPECT_TRUE(has(b, R"("QUERY_STRING": "x=1&y=%20")"));
  EXPECT_TRUE(has(b, R"("RAW_URI": "/environ/a%20b/%C3%A9?x=1&y=%20")"));
  EXPECT_TRUE(has(b, R"("SERVER_NAME": "127.0.0.1")"));
  EXPECT_TRUE(has(b, R"("SERVER_PORT": "8000")"));
  EXPECT_TRUE(has(b, R"("SERVER_PROTOCOL": "HTTP/1.1")"));
  EXPECT_TRUE(has(b, R"("REMOTE_ADDR": "127.0.0.1")"));
  EXPECT_TRUE(has(b, R"("REMOTE_PORT": "40000")"));
  EXPECT_TRUE(has(b, R"("HTTP_HOST": "example.org")"));
  EXPECT_TRUE(has(b, R"("HTTP_X_MULTI": "1,2")"));
  EXPECT_TRUE(has(b, R"("CONTENT_TYPE": "text/plain")"));
  EXPECT_TRUE(has(b, R"("CONTENT_LENGTH": "3")"));
  EXPECT_FALSE(has(b, "HTTP_CONTENT_TYPE"));
  EXPECT_FALSE(has(b, "HTTP_CONTENT_LENGTH"));
  EXPECT_TRUE(has(b, R"("wsgi.url_scheme": "http")"));
  EXPECT_TRUE(has(b, R"("wsgi.version": [1, 0])"));
  EXPECT_TRUE(has(b, R"("wsgi.multithread": false)"));
  EXPECT_TRUE(has(b, R"("wsgi.multiprocess": true)"));
  EXPECT_TRUE(has(b, R"("wsgi.run_once": false)"));
  EXPECT_TRUE(has(b, R"("wsgi.input_terminated": true)"));
}

TEST_P(Gateway, HttpsSchemeAndHttp10) {
  auto req = make_request("GET", "/environ");
  req.url_scheme = "https";
  req.http_minor = 0;
  Exchanged r = run(app(), req);
  EXPECT_TRUE(has(r.out.body, R"("wsgi.url_scheme": "https")"));
  EXPECT_TRUE(has(r.out.body, R"("SERVER_PROTOCOL": "HTTP/1.0")"));
}

TEST_P(Gateway, ReadWithSizeStreamsTheBody) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += static_cast<char>('a' + i % 26);
  Exchanged r = run(app(), make_request("POST", "/digest?chunk=1000"), body, 333);
  ASSERT_EQ(r.out.status, 200) << r.out.body;
  EXPECT_TRUE(has(r.out.body, R"("length": 5000)")) << r.out.body;
}

TEST_P(Gateway, ReadAllOfAChunkedBody) {
  Exchanged r = run(app(), make_request("POST", "/echo"), "chunked body bytes", 5, true);
  ASSERT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.body, "chunked body bytes");
  if (!validated()) {  // PEP 3333 wants read(size); the validator insists
    Exchanged noarg = run(app(), make_request("POST", "/echo?noarg=1"), "no argument", 4, true);
    EXPECT_EQ(noarg.out.body, "no argument");
    Exchanged view = run(app(), make_request("GET", "/write?bytearray=1"));
    EXPECT_EQ(view.out.body, "written by write() and returned\n");
  }
}

TEST_P(Gateway, EchoWithContentLength) {
  Exchanged r = run(app(), make_request("POST", "/echo", {{"Content-Length", "100000"}}),
                    std::string(100000, 'z'), 4096);
  ASSERT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.body, std::string(100000, 'z'));
}

TEST_P(Gateway, InputIterationReadlinesAndReadlineLimit) {
  const std::string body = "one\ntwo\n\nlast-without-newline";
  Exchanged it = run(app(), make_request("POST", "/lines?mode=iter"), body, 3);
  EXPECT_TRUE(has(it.out.body, R"(["one\n", "two\n", "\n", "last-without-newline"])"))
      << it.out.body;
  Exchanged rl = run(app(), make_request("POST", "/lines?mode=readlines"), body, 2);
  EXPECT_TRUE(has(rl.out.body, R"(["one\n", "two\n", "\n", "last-without-newline"])"))
      << rl.out.body;
  Exchanged n = run(app(), make_request("POST", "/lines?mode=readline&n=3"), "abcdef\ngh\n", 4);
  EXPECT_TRUE(has(n.out.body, R"(["abc", "def", "\n", "gh\n"])")) << n.out.body;
}

TEST_P(Gateway, GeneratorIsStreamedAndClosed) {
  Exchanged before = run(app(), make_request("GET", "/stats"));
  Exchanged r = run(app(), make_request("GET", "/stream?n=4"));
  EXPECT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
  EXPECT_EQ(r.out.writes, 4);
  EXPECT_EQ(r.out.flushes, 4);  // no block waits for the next one
  EXPECT_EQ(r.out.header("Content-Length"), "");
  EXPECT_TRUE(r.out.finished);
  Exchanged after = run(app(), make_request("GET", "/stats"));
  EXPECT_NE(before.out.body, after.out.body);
}

TEST_P(Gateway, WriteCallable) {
  Exchanged r = run(app(), make_request("GET", "/write"));
  EXPECT_EQ(r.out.body, "written by write() and returned\n");
}

TEST_P(Gateway, FileWrapperUsesSendfileOnRealFiles) {
  std::ifstream f(std::string(GF_WSGI_TEST_APPS) + "/gateway_app.py", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  Exchanged r = run(app(), make_request("GET", "/file?skip=10"));
  ASSERT_EQ(r.out.status, 200) << host().all_errors();
  EXPECT_EQ(r.out.body, ss.str().substr(10));
  // The validator wraps the result, so only the plain app can hand the
  // file itself to the engine.
  EXPECT_EQ(r.out.sendfiles, validated() ? 0 : 1);
}

TEST_P(Gateway, ExceptionBeforeStartIs500WithTracebackLogged) {
  Exchanged r = run(app(), make_request("GET", "/error_before"));
  EXPECT_EQ(r.out.status, 500);
  EXPECT_EQ(r.out.body, "Internal Server Error\n");
  std::string log = host().all_errors();
  EXPECT_TRUE(has(log, "Error handling request GET /error_before")) << log;
  EXPECT_TRUE(has(log, "Traceback (most recent call last)")) << log;
  EXPECT_TRUE(has(log, "RuntimeError: boom before start_response")) << log;
}

TEST_P(Gateway, ExceptionAfterTheBodyStartedAbortsAndCloses) {
  Exchanged before = run(app(), make_request("GET", "/stats"));
  Exchanged r = run(app(), make_request("GET", "/error_after"));
  EXPECT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.body, "first\n");
  EXPECT_TRUE(r.out.aborted);
  EXPECT_FALSE(r.out.finished);
  EXPECT_TRUE(has(host().all_errors(), "boom after the response started"));
  Exchanged after = run(app(), make_request("GET", "/stats"));
  EXPECT_NE(before.out.body, after.out.body);
}

TEST_P(Gateway, BadHeadersAreNeverSent) {
  for (const char* path : {"/bad_header", "/bad_header_name", "/bad_status"}) {
    Exchanged r = run(app(), make_request("GET", path));
    EXPECT_EQ(r.out.status, 500) << path;
    EXPECT_FALSE(has(r.out.body, "never sent")) << path;
    for (const auto& h : r.out.headers) {
      EXPECT_NE(h.name, "X-Injected");
      EXPECT_FALSE(has(h.value, "evil"));
    }
  }
  if (!validated()) {  // the validator stops these before the gateway sees them
    std::string log = host().all_errors();
    EXPECT_TRUE(has(log, "invalid value for response header 'X-Injected'")) << log;
    EXPECT_TRUE(has(log, "invalid response header name 'Bad Name'")) << log;
    EXPECT_TRUE(has(log, "invalid status '2000 OK\\x0d\\x0aX: y'")) << log;
  }
}

TEST_P(Gateway, ExcInfoReplacesTheHeadBeforeTheBody) {
  Exchanged r = run(app(), make_request("GET", "/exc_info"));
  EXPECT_EQ(r.out.status, 503);
  EXPECT_EQ(r.out.body, "recovered");
  EXPECT_EQ(r.out.starts, 1);
}

TEST_P(Gateway, ExcInfoAfterTheBodyReRaises) {
  Exchanged r = run(app(), make_request("GET", "/exc_info_late"));
  EXPECT_EQ(r.out.status, 200);
  EXPECT_EQ(r.out.body, "partial\n");
  EXPECT_TRUE(r.out.aborted);
  EXPECT_TRUE(has(host().all_errors(), "ValueError: too late"));
}

TEST_P(Gateway, WsgiErrorsGoToTheErrorLogByLine) {
  Exchanged r = run(app(), make_request("GET", "/errors"));
  EXPECT_EQ(r.out.status, 204);
  std::string log = host().all_errors();
  EXPECT_TRUE(has(log, "line one from the app\n")) << log;
  EXPECT_TRUE(has(log, "line two continued\n")) << log;
}

TEST_P(Gateway, ClientLeavingDuringTheBodyReadPropagates) {
  FakeBody reader("0123456789", 3, 6);
  auto req = make_request("POST", "/echo", {{"Content-Length", "10"}});
  req.body = &reader;
  req.content_length = 10;
  FakeWriter out;
  EXPECT_THROW(app().handle(req, out), worker::ClientGone);
  EXPECT_EQ(out.status, 0);
}

TEST_P(Gateway, ClientLeavingDuringWritesClosesTheIterable) {
  Exchanged before = run(app(), make_request("GET", "/stats"));
  auto req = make_request("GET", "/stream?n=3");
  FakeBody reader("");
  req.body = &reader;
  FakeWriter out;
  out.gone = true;
  EXPECT_THROW(app().handle(req, out), worker::ClientGone);
  Exchanged after = run(app(), make_request("GET", "/stats"));
  EXPECT_NE(before.out.body, after.out.body);  // close() was called
}

TEST_P(Gateway, RepeatedResponseHeadersKept) {
  Exchanged r = run(app(), make_request("GET", "/set_cookies"));
  int cookies = 0;
  for (const auto& h : r.out.headers) cookies += h.name == "Set-Cookie";
  EXPECT_EQ(cookies, 2);
}

TEST_P(Gateway, NotFound) {
  Exchanged r = run(app(), make_request("GET", "/nowhere"));
  EXPECT_EQ(r.out.status, 404);
}

INSTANTIATE_TEST_SUITE_P(PlainAndValidated, Gateway,
                         ::testing::Values("gateway_app:app", "gateway_app:validated"));

TEST(GatewayThreads, SlowRequestsRunConcurrently) {
  auto loaded = load("gateway_app:validated", 4);
  ASSERT_TRUE(loaded.ok());
  worker::Application& app = **loaded;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      app.thread_started();
      statuses[i] = run(app, make_request("GET", "/slow?ms=400")).out.status;
      for (int k = 0; k < 200; ++k) {
        if (run(app, make_request("GET", "/hello")).out.body != "hello\n") statuses[i] = -1;
      }
      app.thread_stopping();
    });
  }
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  for (int s : statuses) EXPECT_EQ(s, 200);
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
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      app.thread_started();
      app.take_turn();
      app.take_turn();  // a second call while holding it is a no-op
      statuses[i] = run(app, make_request("GET", "/slow?ms=400")).out.status;
      for (int k = 0; k < 100; ++k) {
        worker::Request req = make_request("GET", "/hello");
        FakeBody reader("", 7);
        req.body = &reader;
        RoomyWriter out;
        app.handle(req, out);
        if (out.body != "hello\n") statuses[i] = -1;
      }
      app.end_turn();
      app.end_turn();
      app.thread_stopping();
    });
  }
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  for (int s : statuses) EXPECT_EQ(s, 200);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1400));  // 4 x 400 ms if serialized
}

}  // namespace
}  // namespace greenfork::wsgi::testing
