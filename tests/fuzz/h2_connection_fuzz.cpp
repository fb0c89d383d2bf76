// libFuzzer target for gworker's HTTP/2 connection (worker/src/http2/):
// the fuzzer's bytes are what a client sends after the h2c preface, into a
// real Connection of a real Server (its engine, nghttp2 session, streams,
// app pool) over a socketpair, with an app that reads each request body and
// answers with a body whose size the request's path picks. The client side
// then closes its write half and reads until the server closes.
//
// Beyond "does not crash" (ASan/UBSan): every input ends (the connection
// closes and every stream is released; a hang is a libFuzzer timeout), and
// whatever the server wrote starts with a SETTINGS frame.
//
// Built as a plain program too (GF_FUZZ off): `h2_connection_replay FILE...`
// runs the inputs once (the regression seeds in tests/data/http2/), and
// `--mutate SECONDS FILE...` is a bounded fuzz run without libFuzzer:
// Debian 12's clang 14 cannot compile Asio's coroutines against GCC 12's
// libstdc++, so the libFuzzer build needs clang 17 or later.
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <vector>
#include <string>

#include "engine/connection.hpp"
#include "engine/server.hpp"
#include "http2/h2_connection.hpp"

namespace {

namespace gw = greenfork::worker;
using Socket = asio::generic::stream_protocol::socket;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

class SizedApp final : public gw::Application {
 public:
  void handle(gw::Request& request, gw::ResponseWriter& out) override {
    char buf[4096];
    uint64_t body = 0;
    for (;;) {
      const size_t n = request.body->read(buf, sizeof buf);
      if (n == 0) break;
      body += n;
    }
    const size_t size = request.path.size() * 997 % 200000;
    (void)out.start(200, "OK", {{"Content-Type", "text/plain"}, {"X-Body", std::to_string(body)}});
    const std::string chunk(std::min<size_t>(size, 65536), 'x');
    for (size_t left = size; left > 0;) {
      const size_t n = std::min(left, chunk.size());
      out.write(chunk.data(), n);
      left -= n;
    }
    out.finish();
  }
};

class QuietHost final : public gw::WorkerHost {
 public:
  void request_restart(const std::string&) override {}
  void log_error(std::string_view) override {}
};

struct World {
  SizedApp app;
  QuietHost host;
  std::unique_ptr<gw::Server> server;
  gw::Listener listener;
  World() {
    gw::EngineConfig config;
    config.http2 = true;
    config.app_threads = 2;
    config.request_buffering = false;  // the app pulls: window updates as it reads
    listener.name = "fuzz";
    listener.unix_socket = true;
    listener.family = AF_UNIX;
    server = std::make_unique<gw::Server>(config, app, host, std::vector<gw::Listener>{}, nullptr);
  }
};

struct ClientState {
  std::string received;  // the first bytes
  size_t total = 0;
  bool done = false;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

// Writes the input, then reads what the server sends until it closes.
asio::awaitable<void> client(Socket& socket, std::string bytes, ClientState& st) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), kNoThrow);
  (void)n;
  (void)ec;
  st.last = std::chrono::steady_clock::now();
  char buf[65536];
  for (;;) {
    auto [rec, got] = co_await socket.async_read_some(asio::buffer(buf), kNoThrow);
    if (rec || got == 0) break;
    st.total += got;
    st.last = std::chrono::steady_clock::now();
    if (st.received.size() < 64) st.received.append(buf, std::min<size_t>(got, 64));
  }
  st.done = true;
}

// Once the server has been quiet for a while (its answers are out), the
// client closes its write half: the server sees the end of the input.
asio::awaitable<void> closer(Socket& socket, ClientState& st) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!st.done) {
    timer.expires_after(std::chrono::milliseconds(2));
    (void)co_await timer.async_wait(kNoThrow);
    if (std::chrono::steady_clock::now() - st.last > std::chrono::milliseconds(8)) {
      asio::error_code ignored;
      socket.shutdown(asio::socket_base::shutdown_send, ignored);
      break;
    }
  }
}

// The bytes the server wrote.
size_t run_one(const uint8_t* data, size_t size) {
  static World world;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) std::abort();
  asio::io_context& io = world.server->io();
  Socket server_end(io, asio::generic::stream_protocol(AF_UNIX, 0), fds[0]);
  Socket client_end(io, asio::generic::stream_protocol(AF_UNIX, 0), fds[1]);
  std::string bytes(gw::http2::kClientPreface);
  bytes.append(reinterpret_cast<const char*>(data), size);
  ClientState st;
  asio::generic::stream_protocol::endpoint peer;
  asio::co_spawn(io, gw::Connection::serve(*world.server, std::move(server_end), peer, world.listener),
                 asio::detached);
  asio::co_spawn(io, client(client_end, std::move(bytes), st), asio::detached);
  asio::co_spawn(io, closer(client_end, st), asio::detached);
  io.restart();
  io.run();
  // The server speaks first: its SETTINGS frame (type 4 at byte 3).
  if (st.received.size() < 9 || st.received[3] != 4) {
    std::fprintf(stderr, "h2_connection_fuzz: no SETTINGS frame first\n");
    std::abort();
  }
  const size_t total = st.total;
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_one(data, size);
  return 0;
}

#ifndef GF_FUZZ_ENGINE
namespace {

// Without libFuzzer: random mutations of the seeds (byte flips, inserts,
// cuts, repeats, splices), deterministic from a fixed PRNG seed.
std::string mutate(const std::vector<std::string>& seeds, std::mt19937& rng) {
  auto pick = [&rng](size_t n) { return n == 0 ? size_t{0} : std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::string s = seeds[pick(seeds.size())];
  const size_t rounds = 1 + pick(8);
  for (size_t r = 0; r < rounds; ++r) {
    switch (pick(6)) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:
        s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256)));
        break;
      case 2:
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, pick(s.size() - at) + 1);
        }
        break;
      case 3:
        if (!s.empty() && s.size() < 32768) {
          const size_t at = pick(s.size());
          const std::string piece = s.substr(at, pick(64) + 1);
          for (size_t k = pick(50) + 1; k > 0; --k) s.insert(at, piece);
        }
        break;
      case 4: {
        const std::string& other = seeds[pick(seeds.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
      default:
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
        break;
    }
  }
  return s;
}

}  // namespace

// h2_connection_replay FILE...                 each input once
// h2_connection_replay --mutate SECONDS FILE... mutations of them for SECONDS
int main(int argc, char** argv) {
  int first = 1;
  double seconds = 0;
  if (argc > 2 && std::string(argv[1]) == "--mutate") {
    seconds = std::atof(argv[2]);
    first = 3;
  }
  std::vector<std::string> seeds;
  for (int i = first; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    seeds.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (seconds == 0) {
      const std::string& bytes = seeds.back();
      const size_t total = run_one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      std::printf("%s: ok, %zu bytes back\n", argv[i], total);
    }
  }
  if (seconds > 0 && !seeds.empty()) {
    std::mt19937 rng(20231010);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    size_t runs = 0;
    while (std::chrono::steady_clock::now() < end) {
      const std::string input = mutate(seeds, rng);
      run_one(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++runs;
    }
    std::printf("h2_connection_replay: %zu mutated inputs in %.0f s, all ended cleanly\n", runs, seconds);
  }
  return 0;
}
#endif
