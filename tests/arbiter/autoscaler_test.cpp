// The autoscaler's and the memory limit's decisions on plain data and a
// fake clock, and the size / range parsers of their settings.
#include <gtest/gtest.h>

#include "../../arbiter/src/config_file.hpp"
#include "greenfork/arbiter/autoscaler.hpp"
#include "greenfork/arbiter/memory_limit.hpp"

namespace greenfork::arbiter {
namespace {

AutoscaleConfig bounds(unsigned min, unsigned max, double cooldown = 30) {
  AutoscaleConfig a;
  a.min = min;
  a.max = max;
  a.cooldown_seconds = cooldown;
  return a;
}

PoolLoad load(unsigned ready, double in_flight, unsigned starting = 0, unsigned threads = 1) {
  PoolLoad l;
  l.ready = ready;
  l.in_flight = in_flight;
  l.starting = starting;
  l.threads_per_worker = threads;
  return l;
}

MonoTime at(double s) { return MonoTime(Seconds(s)); }

TEST(Autoscaler, GrowsOneWorkerAfterSustainedBusyness) {
  Autoscaler a(bounds(1, 3));
  EXPECT_FALSE(a.decide(1, load(1, 32), at(0)));
  EXPECT_FALSE(a.decide(1, load(1, 32), at(1.0)));  // not busy for long enough
  auto d = a.decide(1, load(1, 32), at(1.6));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 2u);
  EXPECT_NE(d->reason.find("busy: 32.0 request(s) in flight on 1 app thread(s)"), std::string::npos) << d->reason;
  // The new worker is starting: no next step until it is READY.
  EXPECT_FALSE(a.decide(2, load(1, 32, 1), at(5)));
  // READY and still busy: the busy time counts from the last step.
  d = a.decide(2, load(2, 30), at(5.1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 3u);
  // At max: never more.
  EXPECT_FALSE(a.decide(3, load(3, 30), at(10)));
  EXPECT_FALSE(a.decide(3, load(3, 30), at(20)));
}

TEST(Autoscaler, AppThreadsAreTheCapacity) {
  Autoscaler a(bounds(1, 4));
  // 3 in flight on 4 threads: not busy, and not low either (3 of 0 spare).
  EXPECT_FALSE(a.decide(1, load(1, 3, 0, 4), at(0)));
  EXPECT_FALSE(a.decide(1, load(1, 3, 0, 4), at(10)));
  EXPECT_FALSE(a.decide(1, load(1, 4, 0, 4), at(11)));
  auto d = a.decide(1, load(1, 4, 0, 4), at(12.5));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 2u);
}

TEST(Autoscaler, ShrinksOneAtATimeAfterEachCooldown) {
  Autoscaler a(bounds(1, 8, 10));
  EXPECT_FALSE(a.decide(3, load(3, 0), at(0)));
  EXPECT_FALSE(a.decide(3, load(3, 0), at(9.9)));
  auto d = a.decide(3, load(3, 0), at(10));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 2u);
  EXPECT_NE(d->reason.find("low use"), std::string::npos);
  // The next one waits a whole cooldown again.
  EXPECT_FALSE(a.decide(2, load(2, 0), at(15)));
  d = a.decide(2, load(2, 0), at(20));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 1u);
  // Never below min.
  EXPECT_FALSE(a.decide(1, load(1, 0), at(100)));
}

TEST(Autoscaler, LoadInTheMiddleRestartsTheCooldown) {
  Autoscaler a(bounds(1, 8, 10));
  EXPECT_FALSE(a.decide(3, load(3, 0), at(0)));
  // 2 in flight would not leave 2 workers at most half busy (2*2 > 2).
  EXPECT_FALSE(a.decide(3, load(3, 2), at(8)));
  EXPECT_FALSE(a.decide(3, load(3, 0), at(12)));
  EXPECT_FALSE(a.decide(3, load(3, 1), at(21)));  // 1 in flight is low use
  ASSERT_TRUE(a.decide(3, load(3, 0), at(22)));
}

TEST(Autoscaler, ResetAndOutOfBoundCounts) {
  Autoscaler a(bounds(2, 4, 10));
  EXPECT_EQ(a.clamp(1), 2u);
  EXPECT_EQ(a.clamp(9), 4u);
  EXPECT_EQ(a.clamp(3), 3u);
  auto d = a.decide(6, load(6, 0), at(0));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, 4u);
  EXPECT_FALSE(a.decide(4, load(4, 0), at(1)));
  a.reset();  // a manual scale: the cooldown starts again
  EXPECT_FALSE(a.decide(4, load(4, 0), at(10)));
  ASSERT_TRUE(a.decide(4, load(4, 0), at(20)));
  Autoscaler off(AutoscaleConfig{});
  EXPECT_FALSE(off.decide(1, load(1, 100), at(0)));
  EXPECT_FALSE(off.decide(1, load(1, 100), at(100)));
  EXPECT_EQ(off.clamp(7), 7u);
}

TEST(Autoscaler, ASyncWorkerBusyMostOfTheTimeIsBusy) {
  Autoscaler a(bounds(1, 2));
  EXPECT_FALSE(a.decide(1, load(1, 0.5), at(0)));  // half the time: not busy
  EXPECT_FALSE(a.decide(1, load(1, 0.5), at(5)));
  EXPECT_FALSE(a.decide(1, load(1, 0.9), at(6)));
  ASSERT_TRUE(a.decide(1, load(1, 0.9), at(7.5)));
}

TEST(LoadMeter, AveragesRequestSecondsOverAtLeastAWindow) {
  LoadMeter m;
  EXPECT_FALSE(m.average());
  m.sample(at(10), 100.0);
  m.sample(at(10.5), 100.4);  // too short a span: no average yet
  EXPECT_FALSE(m.average());
  m.sample(at(11), 100.9);
  ASSERT_TRUE(m.average());
  EXPECT_NEAR(*m.average(), 0.9, 1e-9);
  m.sample(at(13), 106.9);  // 3 requests in flight on average
  EXPECT_NEAR(*m.average(), 3.0, 1e-9);
  m.sample(at(14), 1.0);  // a counter that went back (a restart): a new mark
  EXPECT_NEAR(*m.average(), 3.0, 1e-9);
  m.sample(at(15), 1.0);
  EXPECT_NEAR(*m.average(), 0.0, 1e-9);
}

TEST(Autoscaler, AppThreadsOfACommand) {
  EXPECT_EQ(app_threads_of({"/bin/gworker", "app:app"}), 1u);
  EXPECT_EQ(app_threads_of({"/bin/gworker", "app:app", "--threads", "8"}), 8u);
  EXPECT_EQ(app_threads_of({"/bin/gworker", "app:app", "--threads=3"}), 3u);
  EXPECT_EQ(app_threads_of({"node", "--threads", "x"}), 1u);
}

TEST(MemoryLimit, ReplacesReadyWorkersOverTheLimitOnce) {
  std::vector<MemoryView> v = {
      {1, WorkerState::kReady, at(1), 900, false},
      {2, WorkerState::kReady, at(2), 100, false},
      {3, WorkerState::kStarting, at(3), 5000, false},  // not READY: its successor would not be
      {4, WorkerState::kDraining, at(0), 5000, false},
  };
  MemoryPlan p = plan_memory_restarts(500, 2, v);
  EXPECT_EQ(p.replace, (std::vector<unsigned>{1}));
  EXPECT_TRUE(p.stop.empty());
  EXPECT_TRUE(plan_memory_restarts(0, 2, v).replace.empty());
  v[0].replacing = true;  // already being replaced: not again
  EXPECT_TRUE(plan_memory_restarts(500, 2, v).replace.empty());
}

TEST(MemoryLimit, TheReplacedWorkerStopsOnlyWhenItsSuccessorIsReady) {
  std::vector<MemoryView> v = {
      {1, WorkerState::kReady, at(1), 900, true},
      {2, WorkerState::kReady, at(2), 100, false},
      {3, WorkerState::kStarting, at(3), 0, false},  // the successor
  };
  EXPECT_TRUE(plan_memory_restarts(500, 2, v).stop.empty());
  v[2].state = WorkerState::kReady;
  EXPECT_EQ(plan_memory_restarts(500, 2, v).stop, (std::vector<unsigned>{1}));
  // Two being replaced, one successor READY: the oldest goes first.
  v.push_back({4, WorkerState::kReady, at(0.5), 900, true});
  EXPECT_EQ(plan_memory_restarts(500, 3, v).stop, (std::vector<unsigned>{4}));
}

TEST(Sizes, ParseAndRefuse) {
  EXPECT_EQ(*detail::parse_size("512M"), 512ull << 20);
  EXPECT_EQ(*detail::parse_size("1G"), 1ull << 30);
  EXPECT_EQ(*detail::parse_size("1.5G"), 3ull << 29);
  EXPECT_EQ(*detail::parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(*detail::parse_size("64kb"), 64ull << 10);
  EXPECT_EQ(*detail::parse_size("123456"), 123456ull);
  EXPECT_EQ(detail::parse_size("12X").status().message(),
            "'12X' is not a size (bytes, or a number with K, M, G or T: 512M, 1G)");
  EXPECT_FALSE(detail::parse_size("").ok());
  EXPECT_FALSE(detail::parse_size("M").ok());
  EXPECT_FALSE(detail::parse_size("1..2M").ok());
  EXPECT_EQ(detail::parse_size("0").status().message(), "'0' must be more than 0 bytes");
  EXPECT_EQ(*detail::parse_autoscale_range("1:8"), (std::pair<unsigned, unsigned>{1, 8}));
  EXPECT_FALSE(detail::parse_autoscale_range("8:1").ok());
  EXPECT_FALSE(detail::parse_autoscale_range("0:1").ok());
  EXPECT_FALSE(detail::parse_autoscale_range("3").ok());
  EXPECT_FALSE(detail::parse_autoscale_range("a:b").ok());
}

}  // namespace
}  // namespace greenfork::arbiter
