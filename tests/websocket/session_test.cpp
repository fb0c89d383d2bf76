// WsSession over a socket pair: the session runs on an io_context thread
// with an echoing test handler; the test plays the client with blocking
// reads on the other end (deadlines on every wait, no sleeps).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "assembler_runner.hpp"
#include "websocket/frame_writer.hpp"
#include "websocket/session.hpp"

namespace greenfork::test {
namespace {

using namespace greenfork::worker::websocket;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;  // the machine is loaded: generous

// Echoes messages; "close:N" makes it close with code N, "flood" makes it
// send 16 MiB.
class EchoHandler : public WsHandler {
 public:
  std::shared_ptr<WsSession> session;

  void on_message(bool text, std::string data) override {
    {
      std::lock_guard lock(mu_);
      messages_.push_back(data);
    }
    if (data == "pause") {
      session->pause_reading();
      session->send(true, "paused");
    } else if (data.rfind("close:", 0) == 0) {
      session->close(static_cast<uint16_t>(std::stoi(data.substr(6))), "bye");
    } else if (data == "big") {
      session->send(false, std::string(2 << 20, 'b'));
    } else if (data == "flood") {
      for (int i = 0; i < 16; ++i) session->send(false, std::string(1 << 20, 'f'));
      std::lock_guard lock(mu_);
      queued_after_flood_ = session->queued_bytes();
    } else {
      session->send(text, data);
    }
  }
  void on_drained() override {
    std::lock_guard lock(mu_);
    ++drained_;
    drained_queue_ = session->queued_bytes();
    cv_.notify_all();
  }
  // on_drained() calls so far, waiting up to the deadline for one.
  int wait_drained() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kDeadline, [&] { return drained_ > 0; });
    return drained_;
  }
  size_t queued_after_flood() {
    std::lock_guard lock(mu_);
    return queued_after_flood_;
  }
  size_t drained_queue() {
    std::lock_guard lock(mu_);
    return drained_queue_;
  }
  void on_closed(uint16_t code, const std::string& reason) override {
    std::lock_guard lock(mu_);
    ++closed_calls_;
    code_ = code;
    reason_ = reason;
    cv_.notify_all();
  }
  // The code on_closed() got, waiting up to the deadline; 0 if it never came.
  uint16_t wait_closed() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kDeadline, [&] { return closed_calls_ > 0; });
    return closed_calls_ > 0 ? code_ : 0;
  }
  size_t message_count() {
    std::lock_guard lock(mu_);
    return messages_.size();
  }
  int closed_calls() {
    std::lock_guard lock(mu_);
    return closed_calls_;
  }
  std::string reason() {
    std::lock_guard lock(mu_);
    return reason_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
  int closed_calls_ = 0;
  int drained_ = 0;
  size_t drained_queue_ = 1;
  size_t queued_after_flood_ = 0;
  uint16_t code_ = 0;
  std::string reason_;
};

class SessionTest : public ::testing::Test {
 protected:
  void start(WsSessionOptions options, std::string already_read = {}) {
    asio::local::stream_protocol::socket a(io_), b(io_);
    asio::local::connect_pair(a, b);
    fd_ = b.release();
    handler_.session = WsSession::create(WsSession::Socket(std::move(a)), handler_, std::move(options),
                                         std::move(already_read));
    asio::co_spawn(io_, handler_.session->run(), [this](std::exception_ptr) { run_returned_ = true; });
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    // A failed test may leave the session waiting: bounded, then stopped.
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!run_returned_ && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(run_returned_) << "run() did not return";
    EXPECT_LE(handler_.closed_calls(), 1);
  }

  void send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
  }
  // Reads server frames until `done` holds or EOF; false at the deadline.
  bool read_until(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    char buf[65536];
    while (!done()) {
      if (eof_) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        eof_ = true;
        // As real clients do once the server has closed its side.
        if (close_on_eof_) ::shutdown(fd_, SHUT_WR);
        continue;
      }
      if (!closed_frame_) {
        auto r = client_->feed(std::string_view(buf, static_cast<size_t>(n)), events_);
        EXPECT_NE(r.status, MessageAssembler::kError) << client_->error().reason;
        closed_frame_ = r.status == MessageAssembler::kClosed;
      }
    }
    return true;
  }
  // As read_until(), but a slow reader: at most 128 KiB per `pace`.
  bool read_slowly_until(const std::function<bool()>& done, std::chrono::milliseconds pace) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    std::string buf(128 * 1024, '\0');
    while (!done() && !eof_ && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n <= 0) {
        eof_ = true;
        break;
      }
      client_->feed(std::string_view(buf.data(), static_cast<size_t>(n)), events_);
      std::this_thread::sleep_for(pace);  // being slow is the point, not synchronisation
    }
    return done();
  }
  bool read_to_eof() { return read_until([&] { return eof_; }) || eof_; }
  const WsEvent* last_close() const {
    return !events_.empty() && events_.back().kind == WsEvent::kClose ? &events_.back() : nullptr;
  }

  static WsSessionOptions quiet() {
    WsSessionOptions o;
    o.ping_interval = 0ms;  // no keepalive pings unless a test asks
    o.close_timeout = 2s;
    return o;
  }

  asio::io_context io_;
  EchoHandler handler_;
  std::thread thread_;
  std::atomic<bool> run_returned_{false};
  int fd_ = -1;
  std::unique_ptr<MessageAssembler> client_ =
      std::make_unique<MessageAssembler>(AssemblerOptions{Role::kClient, uint64_t{64} << 20, std::nullopt});
  std::vector<WsEvent> events_;
  bool eof_ = false;
  bool close_on_eof_ = true;
  bool closed_frame_ = false;
};

TEST_F(SessionTest, EchoesPingsAndCompletesAClientClose) {
  start(quiet());
  send(encode_frame(Opcode::kText, "hello", masked(1)) + encode_ping("p?", masked(2)) +
       encode_frame(Opcode::kBinary, "ab", masked(3, false)) + encode_frame(Opcode::kContinuation, "cd", masked(4)));
  ASSERT_TRUE(read_until([&] { return events_.size() >= 3; }));
  EXPECT_EQ(events_[0].data, "hello");
  EXPECT_EQ(events_[1].kind, WsEvent::kPong);
  EXPECT_EQ(events_[1].data, "p?");
  EXPECT_EQ(events_[2].kind, WsEvent::kBinary);
  EXPECT_EQ(events_[2].data, "abcd");
  send(encode_close(1001, "leaving", masked(5)));
  ASSERT_TRUE(read_to_eof());  // the server closes TCP after echoing the close
  ASSERT_NE(last_close(), nullptr);
  EXPECT_EQ(last_close()->code, 1001);
  EXPECT_EQ(handler_.wait_closed(), 1001);
  EXPECT_EQ(handler_.reason(), "leaving");
}

TEST_F(SessionTest, ServerCloseWaitsForTheClientsClose) {
  start(quiet());
  send(encode_frame(Opcode::kText, "close:4000", masked(1)));
  ASSERT_TRUE(read_until([&] { return last_close() != nullptr; }));
  EXPECT_EQ(last_close()->code, 4000);
  EXPECT_EQ(last_close()->data, "bye");
  EXPECT_EQ(handler_.closed_calls(), 0);  // not before the client answers
  send(encode_frame(Opcode::kText, "dropped after close", masked(2)) + encode_close(4000, "", masked(3)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), 4000);
}

TEST_F(SessionTest, CodesNotForTheWireBecome1011) {
  start(quiet());
  send(encode_frame(Opcode::kText, "close:1006", masked(1)));
  ASSERT_TRUE(read_until([&] { return last_close() != nullptr; }));
  EXPECT_EQ(last_close()->code, close_code::kInternalError);
  send(encode_close(1011, "", masked(2)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), close_code::kInternalError);
}

TEST_F(SessionTest, QueuedBytesAndDrained) {
  start(quiet());
  send(encode_frame(Opcode::kText, "flood", masked(1)));
  ASSERT_TRUE(read_until([&] { return events_.size() >= 16; }));
  EXPECT_GE(handler_.queued_after_flood(), size_t{16} << 20);  // all queued at once
  EXPECT_GE(handler_.wait_drained(), 1);
  EXPECT_EQ(handler_.drained_queue(), 0u);
}

TEST_F(SessionTest, CloseTimeoutWhenTheClientNeverAnswers) {
  WsSessionOptions o = quiet();
  o.close_timeout = 200ms;
  start(o);
  send(encode_frame(Opcode::kText, "close:1000", masked(1)));
  ASSERT_TRUE(read_to_eof());
  ASSERT_NE(last_close(), nullptr);
  EXPECT_EQ(handler_.wait_closed(), close_code::kAbnormal);
}

TEST_F(SessionTest, ProtocolErrorsCloseWithTheirCode) {
  start(quiet());
  send(encode_frame(Opcode::kText, "unmasked"));
  ASSERT_TRUE(read_to_eof());
  ASSERT_NE(last_close(), nullptr);
  EXPECT_EQ(last_close()->code, close_code::kProtocolError);
  EXPECT_EQ(handler_.wait_closed(), close_code::kProtocolError);
}

TEST_F(SessionTest, LingerAfterTheCloseIsBounded) {
  WsSessionOptions o = quiet();
  o.close_timeout = 200ms;
  start(o);
  close_on_eof_ = false;  // the client keeps its side open after the server's FIN
  send(encode_frame(Opcode::kText, "unmasked"));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), close_code::kProtocolError);
}

TEST_F(SessionTest, OversizeMessageIs1009) {
  WsSessionOptions o = quiet();
  o.max_message_size = 10;
  start(o);
  send(encode_frame(Opcode::kBinary, std::string(11, 'x'), masked(1)));
  ASSERT_TRUE(read_to_eof());
  ASSERT_NE(last_close(), nullptr);
  EXPECT_EQ(last_close()->code, close_code::kMessageTooBig);
  EXPECT_EQ(handler_.wait_closed(), close_code::kMessageTooBig);
}

TEST_F(SessionTest, EofWithoutCloseIs1006) {
  start(quiet());
  send(encode_frame(Opcode::kText, "hi", masked(1)));
  ASSERT_TRUE(read_until([&] { return !events_.empty(); }));
  ::shutdown(fd_, SHUT_WR);
  EXPECT_EQ(handler_.wait_closed(), close_code::kAbnormal);
}

TEST_F(SessionTest, KeepalivePingsAndTheirTimeout) {
  WsSessionOptions o = quiet();
  o.ping_interval = 50ms;
  o.ping_timeout = 300ms;
  start(o);
  // Three pings answered: still open.
  for (int i = 0; i < 3; ++i) {
    const size_t seen = events_.size();
    ASSERT_TRUE(read_until([&] { return events_.size() > seen; }));
    ASSERT_EQ(events_.back().kind, WsEvent::kPing);
    send(encode_pong(events_.back().data, masked(9)));
  }
  EXPECT_EQ(handler_.closed_calls(), 0);
  // Then silence: 1011 after the timeout.
  ASSERT_TRUE(read_to_eof());
  ASSERT_NE(last_close(), nullptr);
  EXPECT_EQ(last_close()->code, close_code::kInternalError);
  EXPECT_EQ(handler_.wait_closed(), close_code::kInternalError);
  EXPECT_NE(handler_.reason().find("ping timeout"), std::string::npos);
}

TEST_F(SessionTest, WriteTimeoutDropsAClientThatDoesNotRead) {
  WsSessionOptions o = quiet();
  o.write_timeout = 300ms;
  start(o);
  send(encode_frame(Opcode::kText, "flood", masked(1)));  // 16 MiB the client never reads
  EXPECT_EQ(handler_.wait_closed(), close_code::kAbnormal);
  EXPECT_NE(handler_.reason().find("write timeout"), std::string::npos);
}

TEST_F(SessionTest, WriteTimeoutCountsFromTheLastProgress) {
  WsSessionOptions o = quiet();
  o.write_timeout = 300ms;
  start(o);
  send(encode_frame(Opcode::kText, "big", masked(1)));  // 2 MiB, read in 16+ paced steps
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(read_slowly_until([&] { return !events_.empty(); }, 40ms));
  EXPECT_GT(std::chrono::steady_clock::now() - t0, o.write_timeout);  // longer than the timeout in all
  EXPECT_EQ(events_[0].data.size(), size_t{2} << 20);
  EXPECT_EQ(handler_.closed_calls(), 0);
  send(encode_close(1000, "", masked(2)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), 1000);
}

TEST_F(SessionTest, BytesReadWithTheHandshakeComeFirst) {
  start(quiet(), encode_frame(Opcode::kText, "early", masked(1)));
  send(encode_frame(Opcode::kText, "late", masked(2)));
  ASSERT_TRUE(read_until([&] { return events_.size() >= 2; }));
  EXPECT_EQ(events_[0].data, "early");
  EXPECT_EQ(events_[1].data, "late");
  send(encode_close(1000, "", masked(3)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), 1000);
}

TEST_F(SessionTest, PausedReadingBacksUpIntoTheClient) {
  start(quiet());
  send(encode_frame(Opcode::kText, "pause", masked(1)));
  ASSERT_TRUE(read_until([&] { return !events_.empty(); }));
  ASSERT_EQ(events_[0].data, "paused");
  // While paused the server reads nothing: the client's sends stop once
  // the socket buffers are full.
  const std::string frame = encode_frame(Opcode::kBinary, std::string(256 * 1024, 'q'), masked(2));
  const int flags = ::fcntl(fd_, F_GETFL);
  ASSERT_EQ(::fcntl(fd_, F_SETFL, flags | O_NONBLOCK), 0);
  size_t frames = 0;
  size_t partial = 0;
  for (; frames < 256; ++frames) {
    partial = 0;
    while (partial < frame.size()) {
      const ssize_t n = ::write(fd_, frame.data() + partial, frame.size() - partial);
      if (n <= 0) break;
      partial += static_cast<size_t>(n);
    }
    if (partial < frame.size()) break;
  }
  ASSERT_LT(frames, 256u) << "the server kept reading while paused";
  EXPECT_EQ(handler_.message_count(), 1u);
  ASSERT_EQ(::fcntl(fd_, F_SETFL, flags), 0);
  asio::post(io_, [this] { handler_.session->resume_reading(); });
  // The rest of the cut frame is written while reading the echoes (the
  // server's replies would otherwise fill the other direction).
  std::thread rest([&] { send(frame.substr(partial)); });
  const bool echoed = read_until([&] { return events_.size() >= frames + 2; });
  rest.join();
  ASSERT_TRUE(echoed);
  EXPECT_EQ(events_.back().data, std::string(256 * 1024, 'q'));
  send(encode_close(1000, "", masked(3)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), 1000);
}

TEST_F(SessionTest, PermessageDeflateBothWays) {
  WsSessionOptions o = quiet();
  o.deflate = negotiate_permessage_deflate("permessage-deflate", {});
  ASSERT_TRUE(o.deflate);
  start(o);
  client_ = std::make_unique<MessageAssembler>(AssemblerOptions{Role::kClient, 1 << 20, o.deflate->params});
  MessageDeflater client_deflater(o.deflate->params);
  const std::string text(5000, 'z');
  std::string wire = encode_message(true, text, &client_deflater, masked(1));
  EXPECT_LT(wire.size(), 200u);
  send(wire);
  ASSERT_TRUE(read_until([&] { return !events_.empty(); }));
  EXPECT_EQ(events_[0].data, text);
  send(encode_close(1000, "", masked(2)));
  ASSERT_TRUE(read_to_eof());
  EXPECT_EQ(handler_.wait_closed(), 1000);
}

}  // namespace
}  // namespace greenfork::test
