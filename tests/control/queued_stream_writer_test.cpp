// QueuedStreamWriter without gRPC: one write in flight, order kept, Finish
// once and only after the write in flight, bounded queue.
#include "queued_stream_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace greenfork::arbiter {
namespace {

struct Recorder {
  std::vector<std::string> writes;
  std::vector<grpc::StatusCode> finishes;
  QueuedStreamWriter<std::string> out{[this](const std::string* s) { writes.push_back(*s); },
                                      [this](const grpc::Status& s) { finishes.push_back(s.error_code()); }};
};

TEST(QueuedStreamWriter, OneWriteInFlightInOrder) {
  Recorder r;
  EXPECT_TRUE(r.out.push("a", 10));
  EXPECT_TRUE(r.out.push("b", 10));
  EXPECT_TRUE(r.out.push("c", 10));
  EXPECT_EQ(r.writes, std::vector<std::string>{"a"});  // b and c wait for a's OnWriteDone
  r.out.write_done(true);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"a", "b"}));
  r.out.write_done(true);
  r.out.write_done(true);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(r.finishes.empty());
}

TEST(QueuedStreamWriter, FinishWaitsForTheWriteInFlightAndIsSentOnce) {
  Recorder r;
  r.out.push("a", 10);
  r.out.push("b", 10);
  r.out.end(grpc::Status::OK);
  r.out.end(grpc::Status::CANCELLED);  // the first end wins
  EXPECT_TRUE(r.finishes.empty());     // "a" is still being written
  EXPECT_FALSE(r.out.push("c", 10));
  EXPECT_TRUE(r.out.ending());
  r.out.write_done(true);
  EXPECT_EQ(r.writes, std::vector<std::string>{"a"});  // "b" was dropped
  EXPECT_EQ(r.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::OK});
  bool ran = false;
  EXPECT_FALSE(r.out.unless_ending([&] { ran = true; }));
  EXPECT_FALSE(ran);
}

TEST(QueuedStreamWriter, AFailedWriteEndsTheStreamCancelled) {
  Recorder r;
  r.out.push("a", 10);
  r.out.push("b", 10);
  r.out.write_done(false);
  EXPECT_EQ(r.writes, std::vector<std::string>{"a"});
  EXPECT_EQ(r.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::CANCELLED});
}

TEST(QueuedStreamWriter, AFullQueueDropsOrEndsTheStream) {
  Recorder drop;
  EXPECT_TRUE(drop.out.push("a", 1));   // being written: still counts as queued
  EXPECT_FALSE(drop.out.push("b", 1));  // dropped, the stream goes on
  drop.out.write_done(true);
  EXPECT_EQ(drop.writes, std::vector<std::string>{"a"});
  EXPECT_TRUE(drop.finishes.empty());

  Recorder end;
  end.out.push("a", 1);
  EXPECT_FALSE(end.out.push("b", 1, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "behind")));
  end.out.write_done(true);
  EXPECT_EQ(end.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::RESOURCE_EXHAUSTED});
}

}  // namespace
}  // namespace greenfork::arbiter
