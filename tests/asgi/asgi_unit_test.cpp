// worker/asgi pieces without Python or sockets: the eventfd batch queue
// and the scope's percent-decoding.
#include <gtest/gtest.h>
#include <poll.h>

#include <thread>
#include <vector>

#include "greenfork/asgi/event_queue.hpp"
#include "greenfork/asgi/scope.hpp"

namespace greenfork::asgi {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(PercentDecode, DecodesEscapesAndKeepsTheRest) {
  EXPECT_EQ(percent_decode("/a%20b"), "/a b");
  EXPECT_EQ(percent_decode("/%C3%A9t%c3%a9"), "/\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(percent_decode("%2F%2f"), "//");
  EXPECT_EQ(percent_decode("/100%"), "/100%");
  EXPECT_EQ(percent_decode("/%4"), "/%4");
  EXPECT_EQ(percent_decode("/%zz%4g"), "/%zz%4g");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode(""), "");
}

TEST(EventQueue, OneWakeUpPerBatch) {
  EventQueue q;
  ASSERT_TRUE(q.open().ok());
  EXPECT_FALSE(readable(q.fd()));
  q.push({LoopEvent::kSubmit, nullptr, true});
  EXPECT_TRUE(readable(q.fd()));
  q.push({LoopEvent::kIoDone, nullptr, false});
  q.push({LoopEvent::kDisconnected, nullptr, true});
  std::vector<LoopEvent> batch;
  q.take(batch);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].kind, LoopEvent::kSubmit);
  EXPECT_EQ(batch[1].kind, LoopEvent::kIoDone);
  EXPECT_FALSE(batch[1].ok);
  EXPECT_EQ(batch[2].kind, LoopEvent::kDisconnected);
  EXPECT_FALSE(readable(q.fd()));  // the batch's wake-up was consumed
  q.take(batch);
  EXPECT_TRUE(batch.empty());
  q.push({LoopEvent::kStop, nullptr, true});  // the next batch wakes again
  EXPECT_TRUE(readable(q.fd()));
}

TEST(EventQueue, NothingIsLostAcrossThreads) {
  EventQueue q;
  ASSERT_TRUE(q.open().ok());
  constexpr int kEvents = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kEvents; ++i) q.push({LoopEvent::kIoDone, nullptr, true});
  });
  int got = 0;
  std::vector<LoopEvent> batch;
  while (got < kEvents) {
    pollfd p{q.fd(), POLLIN, 0};
    // Every event is preceded by a wake-up the loop can see.
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no wake-up with " << got << " events taken";
    q.take(batch);
    got += static_cast<int>(batch.size());
  }
  producer.join();
  EXPECT_EQ(got, kEvents);
}

}  // namespace
}  // namespace greenfork::asgi
