// gctl top's options and frames, and gctl --json's numbers, without a server.
#include <gtest/gtest.h>

#include "greenfork/ctl/arguments.hpp"
#include "render.hpp"
#include "top_view.hpp"

namespace greenfork::ctl {
namespace {

TEST(TopArguments, OptionsAndTheirErrors) {
  auto inv = parse_arguments({"top", "-d", "0.5", "-s", "rss", "-n", "3"});
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  EXPECT_EQ(inv->command, Command::kTop);
  EXPECT_DOUBLE_EQ(inv->top.delay_seconds, 0.5);
  EXPECT_EQ(inv->top.sort, "rss");
  EXPECT_EQ(inv->top.frames.value_or(0), 3u);
  auto defaults = parse_arguments({"--json", "top"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_DOUBLE_EQ(defaults->top.delay_seconds, 1.0);
  EXPECT_EQ(defaults->top.sort, "cpu");
  EXPECT_FALSE(defaults->top.frames);
  for (std::vector<std::string> bad : {std::vector<std::string>{"top", "-d", "0"}, {"top", "-d", "x"},
                                       {"top", "-s", "name"}, {"top", "-n", "0"}, {"top", "-n", "2x"},
                                       {"top", "extra"}, {"top", "--wait"}}) {
    EXPECT_FALSE(parse_arguments(bad).ok()) << bad.back();
  }
}

v1::StatusReply reply(double cpu_a, double cpu_b) {
  v1::StatusReply r;
  r.set_pid(10);
  auto* p = r.add_pools();
  p->set_name("web");
  p->set_state(v1::POOL_STATE_RUNNING);
  p->set_reloads(3);
  auto* a = p->add_workers();
  a->set_pid(101);
  a->set_slot(1);
  a->set_cpu_seconds(cpu_a);
  a->set_uptime_seconds(10);
  a->set_rss_bytes(1 << 20);
  a->set_requests_served(5000000000ULL);  // past 2^32
  auto* b = p->add_workers();
  b->set_pid(102);
  b->set_slot(2);
  b->set_cpu_seconds(cpu_b);
  b->set_uptime_seconds(10);
  b->set_rss_bytes(4 << 20);
  return r;
}

size_t row_of(const std::string& frame, const std::string& pid) { return frame.find("\n" + pid + " "); }

TEST(TopView, SortsAndComputesCpuBetweenFrames) {
  const v1::StatusReply first = reply(1.0, 2.0);
  const TopSample before = top_sample(first, 100.0);
  // One second later: 101 used 0.5 s of CPU (50 %), 102 used 0.1 s (10 %).
  const v1::StatusReply second = reply(1.5, 2.1);
  std::string frame = render_top(second, &before, 101.0, "cpu", {}, 0);
  ASSERT_NE(row_of(frame, "101"), std::string::npos) << frame;
  EXPECT_LT(row_of(frame, "101"), row_of(frame, "102")) << frame;
  EXPECT_NE(frame.find("50.0"), std::string::npos) << frame;
  EXPECT_NE(frame.find("10.0"), std::string::npos) << frame;
  frame = render_top(second, &before, 101.0, "rss", {"09:00:00.000  worker_ready"}, 0);
  EXPECT_LT(row_of(frame, "102"), row_of(frame, "101")) << frame;
  EXPECT_NE(frame.find("EVENTS\n09:00:00.000  worker_ready"), std::string::npos);
  frame = render_top(second, nullptr, 101.0, "pid", {}, 1);
  EXPECT_NE(frame.find("... 1 more"), std::string::npos) << frame;
  EXPECT_EQ(row_of(frame, "102"), std::string::npos);
}

TEST(JsonOutput, SixtyFourBitCountersAreNumbers) {
  const std::string json = to_json(reply(1.5, -1));
  EXPECT_NE(json.find("\"requests_served\":5000000000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"reloads\":3"), std::string::npos);
  EXPECT_NE(json.find("\"cpu_seconds\":-1"), std::string::npos);
  EXPECT_NE(json.find("\"state\":\"POOL_STATE_RUNNING\""), std::string::npos);
  EXPECT_NE(json.find("\"status_text\":\"\""), std::string::npos);  // defaults printed
  v1::WorkerStatus w;
  w.set_status_text("a\"b\\c\n\x01");
  EXPECT_NE(to_json(w).find(R"("status_text":"a\"b\\c\n\u0001")"), std::string::npos) << to_json(w);
}

}  // namespace
}  // namespace greenfork::ctl
