// Unit tests for the engine's I/O-free pieces: response heads, the access
// log format compiler, the request body spool and the outbox.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include <asio/io_context.hpp>

#include "engine/access_log.hpp"
#include "engine/body_gate.hpp"
#include "engine/body_spool.hpp"
#include "engine/outbox.hpp"
#include "http/response_head.hpp"

namespace greenfork::worker {
namespace {

TEST(ResponseHead, DropsHopByHopAndParsesLength) {
  auto head = http::check_app_head(
      200, "", {{"Content-Type", "text/plain"}, {"Connection", "keep-alive, close"},
                {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}});
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->reason, "OK");
  EXPECT_TRUE(head->close);
  ASSERT_EQ(head->headers.size(), 1u);
  EXPECT_EQ(head->headers[0].name, "Content-Type");
  EXPECT_EQ(head->content_length, 5u);
}

TEST(ResponseHead, RefusesInjection) {
  EXPECT_FALSE(http::check_app_head(200, "", {{"X", "a\r\nSet-Cookie: x"}}).ok());
  EXPECT_FALSE(http::check_app_head(200, "", {{"X Y", "a"}}).ok());
  EXPECT_FALSE(http::check_app_head(200, "O\nK", {}).ok());
  EXPECT_FALSE(http::check_app_head(99, "", {}).ok());
  EXPECT_FALSE(http::check_app_head(200, "", {{"Content-Length", "1x"}}).ok());
}

TEST(ResponseHead, SerializesFraming) {
  http::AppHead head;
  head.reason = "OK";
  std::string out;
  http::serialize_head(head, http::Framing::kChunked, 0, false, false, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nServer: greenfork\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  out.clear();
  http::serialize_head(head, http::Framing::kContentLength, 13, true, true, out);
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHead, ErrorResponseCloses) {
  const std::string r = http::error_response(431, "too many headers");
  EXPECT_EQ(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
}

TEST(AccessLogFormat, CompilesGunicornDefault) {
  const auto atoms = AccessLog::compile(AccessLog::kDefaultFormat);
  std::string kinds;
  for (const auto& a : atoms) kinds.push_back(a.kind == 0 ? '_' : a.kind);
  EXPECT_EQ(kinds, "h_l_u_t_r_s_b_f_a_");
}

TEST(AccessLogFormat, HeaderAndEnvAtoms) {
  const auto atoms = AccessLog::compile("%({x-real-ip}i)s %({content-type}o)s %({HOME}e)s %(D)s 100%%");
  ASSERT_EQ(atoms.size(), 8u);
  EXPECT_EQ(atoms[0].kind, 'i');
  EXPECT_EQ(atoms[0].text, "x-real-ip");
  EXPECT_EQ(atoms[2].kind, 'o');
  EXPECT_EQ(atoms[4].kind, 'e');
  EXPECT_EQ(atoms[6].kind, 'D');
  EXPECT_EQ(atoms[7].text, " 100%");
}

std::string read_all(BodySpool& spool, size_t step) {
  std::string out;
  std::string buf(step, '\0');
  while (size_t n = spool.read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

TEST(BodySpool, KeepsASmallBodyInMemory) {
  BodySpool spool;
  const std::string dir = ::testing::TempDir();
  spool.reset(1024, &dir);
  std::string a = "hello ", b = "world";
  ASSERT_TRUE(spool.append(a).ok());
  ASSERT_TRUE(spool.append(b).ok());
  EXPECT_TRUE(a.empty() && b.empty());
  EXPECT_FALSE(spool.spilled());
  EXPECT_EQ(read_all(spool, 3), "hello world");
  EXPECT_FALSE(spool.has_unread());
}

TEST(BodySpool, SpillsPastTheLimitToAnUnlinkedFile) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string dir_text = dir.string();
  BodySpool spool;
  spool.reset(100, &dir_text);
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece(37, static_cast<char>('a' + i % 26));
    expected += piece;
    ASSERT_TRUE(spool.append(piece).ok());
  }
  EXPECT_TRUE(spool.spilled());
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the file has no name";
  EXPECT_EQ(read_all(spool, 64), expected);
  spool.reset();
  std::filesystem::remove_all(dir);
}

TEST(BodySpool, ReadsStraightIntoItsRoomAfterTheBytesAppended) {
  BodySpool spool;
  const std::string dir = ::testing::TempDir();
  spool.reset(64, &dir);
  std::string head_bytes = "abc";  // came with the request head
  ASSERT_TRUE(spool.append(head_bytes).ok());
  char* room = spool.room(10);
  ASSERT_NE(room, nullptr);
  std::memcpy(room, "defgh", 5);
  spool.commit(5);
  std::string more = "ij";
  ASSERT_TRUE(spool.append(more).ok());  // after the room's bytes
  EXPECT_EQ(spool.unread(), 10u);
  EXPECT_EQ(read_all(spool, 4), "abcdefghij");
  EXPECT_EQ(spool.room(65), nullptr) << "past the memory limit: append() spills";
  EXPECT_FALSE(spool.spilled());
  spool.reset(64, &dir);  // the next request: its room starts empty
  ASSERT_NE(spool.room(2), nullptr);
  std::memcpy(spool.room(2), "xy", 2);
  spool.commit(2);
  EXPECT_EQ(read_all(spool, 8), "xy");
}

TEST(BodySpool, SpillsTheRoomsBytesInOrder) {
  const std::string dir = ::testing::TempDir();
  BodySpool spool;
  spool.reset(8, &dir);
  char* room = spool.room(6);
  ASSERT_NE(room, nullptr);
  std::memcpy(room, "012345", 6);
  spool.commit(6);
  std::string rest = "6789";  // past 8 bytes: the whole body moves to a file
  ASSERT_TRUE(spool.append(rest).ok());
  EXPECT_TRUE(spool.spilled());
  EXPECT_EQ(read_all(spool, 3), "0123456789");
}

TEST(BodyGate, AdmitsWithinTheBudgetInArrivalOrder) {
  asio::io_context io;
  Event wake_a(io.get_executor()), wake_b(io.get_executor()), wake_c(io.get_executor());
  BodyGate gate(10);
  BodyGate::Pass a, b, c;
  a.enter(gate, 6, wake_a);
  EXPECT_TRUE(a.admitted());
  b.enter(gate, 6, wake_b);  // 12 > 10: waits
  EXPECT_FALSE(b.admitted());
  c.enter(gate, 2, wake_c);  // would fit, but nobody overtakes b
  EXPECT_FALSE(c.admitted());
  EXPECT_EQ(gate.waiting(), 2u);
  a.leave();
  EXPECT_TRUE(b.admitted());
  EXPECT_TRUE(c.admitted());
  EXPECT_EQ(gate.held(), 8u);
  b.leave();
  c.leave();
  EXPECT_EQ(gate.held(), 0u);
}

TEST(BodyGate, ABodyPastTheBudgetGoesAloneAndAWaiterMayLeave) {
  asio::io_context io;
  Event wake_a(io.get_executor()), wake_b(io.get_executor()), wake_c(io.get_executor());
  BodyGate gate(10);
  BodyGate::Pass a, c;
  a.enter(gate, 25, wake_a);  // nothing held: admitted all the same
  EXPECT_TRUE(a.admitted());
  {
    BodyGate::Pass b;
    b.enter(gate, 1, wake_b);
    EXPECT_FALSE(b.admitted());
  }  // a client that left while waiting
  EXPECT_EQ(gate.waiting(), 0u);
  c.enter(gate, 4, wake_c);
  EXPECT_FALSE(c.admitted());
  a.leave();
  EXPECT_TRUE(c.admitted());
  EXPECT_EQ(gate.held(), 4u);
}

TEST(BodySpool, AnUnusableDirectoryIsAnError) {
  BodySpool spool;
  const std::string dir = "/nonexistent/greenfork";
  spool.reset(4, &dir);
  std::string big = "more than four bytes";
  EXPECT_FALSE(spool.append(big).ok());
}

TEST(Outbox, TakesAHandOverWholeAndSendsWhatTheSocketTakes) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int small = 4096;
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  Outbox outbox;
  std::string block(4 * 1024 * 1024, 'x');  // far past the bound and the socket
  outbox.append(block);
  EXPECT_TRUE(block.empty());
  bool progressed = false;
  EXPECT_EQ(outbox.send(fds[0], progressed), Outbox::Send::kBlocked);
  EXPECT_TRUE(progressed);
  EXPECT_GT(outbox.size(), Outbox::kBound);
  // Nobody reads: a blocking send down to the bound gives up at its timeout.
  EXPECT_FALSE(outbox.send_blocking(fds[0], Outbox::kBound, std::chrono::milliseconds(50)));
  ::close(fds[1]);
  progressed = false;
  EXPECT_EQ(outbox.send(fds[0], progressed), Outbox::Send::kFailed);
  ::close(fds[0]);
}

}  // namespace
}  // namespace greenfork::worker
