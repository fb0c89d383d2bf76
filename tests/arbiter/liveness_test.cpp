// Back-off, heartbeat deadlines (a fake clock: plain numbers), notify
// messages and slot allocation.
#include <gtest/gtest.h>

#include "greenfork/arbiter/backoff.hpp"
#include "greenfork/arbiter/heartbeat_monitor.hpp"
#include "greenfork/arbiter/notify_message.hpp"
#include "greenfork/arbiter/shutdown.hpp"
#include "greenfork/arbiter/slot_allocator.hpp"

namespace greenfork::arbiter {
namespace {

MonoTime at(double seconds) { return MonoTime(Seconds(seconds)); }
// A back-off delay in plain seconds, for EXPECT_DOUBLE_EQ.
double secs(Seconds d) { return d.count(); }

TEST(Backoff, GrowsExponentiallyForFastCrashesUpToTheCap) {
  Backoff b(BackoffConfig{0.1, 1.0, 10.0});
  double t = 100;
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 0.0);  // the first is restarted at once
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 0.1);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 0.2);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 0.4);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 0.8);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 1.0);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), false, at(t += 0.5))), 1.0);
}

TEST(Backoff, AHealthyRunResetsTheDelay) {
  Backoff b(BackoffConfig{0.1, 30.0, 10.0});
  double t = 100;
  secs(b.on_crash(Seconds(0.1), false, at(t += 0.1)));
  secs(b.on_crash(Seconds(0.1), false, at(t += 0.1)));
  EXPECT_GT(secs(b.on_crash(Seconds(0.1), false, at(t += 0.1))), 0.0);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(12.0), false, at(t += 12))), 0.0);
  EXPECT_EQ(b.fast_crashes(), 0u);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.1), false, at(t += 0.1))), 0.0);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.1), false, at(t += 0.1))), 0.1);
}

TEST(Backoff, AWorkerThatBecameReadyResetsTheDelay) {
  // Killed from outside every half second: each one had booted, so each is
  // replaced at once instead of the delay growing to its cap.
  Backoff b(BackoffConfig{0.1, 30.0, 10.0});
  double t = 100;
  for (int i = 0; i < 20; ++i) EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.5), true, at(t += 0.5))), 0.0);
  EXPECT_EQ(b.fast_crashes(), 0u);
  secs(b.on_crash(Seconds(0.1), false, at(t += 0.1)));
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(0.1), false, at(t += 0.1))), 0.1);  // a boot loop still backs off
}

TEST(Backoff, AQuietPeriodBetweenCrashesResetsTheDelay) {
  Backoff b(BackoffConfig{0.1, 30.0, 10.0});
  secs(b.on_crash(Seconds(1), false, at(100)));
  secs(b.on_crash(Seconds(1), false, at(101)));
  EXPECT_GT(secs(b.on_crash(Seconds(1), false, at(102))), 0.0);
  EXPECT_DOUBLE_EQ(secs(b.on_crash(Seconds(1), false, at(200))), 0.0);
}

HeartbeatPolicy policy(HeartbeatMode mode) {
  HeartbeatPolicy p;
  p.mode = mode;
  p.timeout = Seconds(10);
  p.boot_timeout = Seconds(5);
  return p;
}

TEST(Heartbeat, NoneIsReadyAtOnceAndNeverHung) {
  Liveness l;
  l.started_at = at(0);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kNone), l, at(0)), HeartbeatVerdict::kBecomeReady);
  l.ready_at = at(0);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kNone), l, at(1000)), HeartbeatVerdict::kOk);
}

TEST(Heartbeat, AutoCountsASilentWorkerReadyAfterOneSecond) {
  Liveness l;
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(0.5)), HeartbeatVerdict::kOk);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(1.0)), HeartbeatVerdict::kBecomeReady);
}

TEST(Heartbeat, AutoWaitsForReadyOnceTheWorkerHasSpoken) {
  Liveness l;
  l.spoke = true;
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(2)), HeartbeatVerdict::kOk);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(5.5)), HeartbeatVerdict::kBootTimeout);
}

TEST(Heartbeat, AutoWaitsForReadyFromAWorkerThatDeclaresReadiness) {
  // gworker hung while importing its app is silent: never READY by the clock.
  PoolConfig gworker_pool;
  gworker_pool.command = {"/opt/greenfork/bin/gworker", "hello:app"};
  gworker_pool.boot_timeout_seconds = 5;
  PoolConfig notify_pool;
  notify_pool.command = {"/usr/bin/node", "server.js"};
  notify_pool.readiness = Readiness::kNotify;
  notify_pool.boot_timeout_seconds = 5;
  for (const PoolConfig& pool : {gworker_pool, notify_pool}) {
    HeartbeatPolicy p = HeartbeatPolicy::from(pool);
    ASSERT_EQ(p.mode, HeartbeatMode::kAuto);
    EXPECT_TRUE(p.ready_message_required);
    Liveness l;
    EXPECT_EQ(check_heartbeat(p, l, at(1.5)), HeartbeatVerdict::kOk);
    EXPECT_EQ(check_heartbeat(p, l, at(5.5)), HeartbeatVerdict::kBootTimeout);
  }
  PoolConfig plain;
  plain.command = {"/usr/bin/node", "gworker.js"};
  EXPECT_FALSE(HeartbeatPolicy::from(plain).ready_message_required);
  EXPECT_TRUE(runs_gworker({"gworker"}));
  EXPECT_FALSE(runs_gworker({"/usr/bin/gworker2"}));
}

TEST(Heartbeat, AutoEnforcesTheWatchdogOnlyAfterWatchdogOne) {
  Liveness l;
  l.ready_at = at(1);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(100)), HeartbeatVerdict::kOk);
  l.watchdog = true;
  l.last_beat = at(95);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(100)), HeartbeatVerdict::kOk);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kAuto), l, at(105.5)), HeartbeatVerdict::kHung);
}

TEST(Heartbeat, NotifyNeedsReadyWithinBootTimeout) {
  Liveness l;
  l.started_at = at(10);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kNotify), l, at(14.9)), HeartbeatVerdict::kOk);
  EXPECT_EQ(check_heartbeat(policy(HeartbeatMode::kNotify), l, at(15.1)), HeartbeatVerdict::kBootTimeout);
}

TEST(Heartbeat, NotifyAndGrpcAreHungAfterTimeoutWithoutABeat) {
  for (auto mode : {HeartbeatMode::kNotify, HeartbeatMode::kGrpc}) {
    Liveness l;
    l.ready_at = at(2);
    l.last_beat = at(2);
    EXPECT_EQ(check_heartbeat(policy(mode), l, at(11.9)), HeartbeatVerdict::kOk);
    EXPECT_EQ(check_heartbeat(policy(mode), l, at(12.1)), HeartbeatVerdict::kHung);
    l.last_beat = at(12);
    EXPECT_EQ(check_heartbeat(policy(mode), l, at(12.1)), HeartbeatVerdict::kOk);
  }
}

TEST(Heartbeat, MaxRequestAgeCountsFromTheReportedAge) {
  HeartbeatPolicy p = policy(HeartbeatMode::kGrpc);
  p.max_request_age = Seconds(3);
  Liveness l;
  l.ready_at = at(0);
  l.last_beat = at(9);
  l.oldest_request_age = Seconds(2);
  l.oldest_request_seen_at = at(9);
  EXPECT_EQ(check_heartbeat(p, l, at(9.5)), HeartbeatVerdict::kOk);
  EXPECT_EQ(check_heartbeat(p, l, at(10.5)), HeartbeatVerdict::kRequestTooOld);
  l.oldest_request_age = Seconds(0);  // nothing in flight
  EXPECT_EQ(check_heartbeat(p, l, at(10.5)), HeartbeatVerdict::kOk);
}

TEST(NotifyMessage, ParsesEveryAssignment) {
  NotifyMessage m = parse_notify_message("READY=1\nSTATUS=serving 3 requests\nWATCHDOG=1\n");
  EXPECT_TRUE(m.ready);
  EXPECT_TRUE(m.watchdog);
  EXPECT_FALSE(m.stopping);
  ASSERT_TRUE(m.status.has_value());
  EXPECT_EQ(*m.status, "serving 3 requests");
  EXPECT_TRUE(parse_notify_message("STOPPING=1").stopping);
  EXPECT_TRUE(parse_notify_message("RELOADING=1").reloading);
}

TEST(NotifyMessage, IgnoresUnknownAndMalformedLines) {
  NotifyMessage m = parse_notify_message("MAINPID=12\nREADY=0\nREADY\nX=1");
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(parse_notify_message("").empty());
}

TEST(NotifyMessage, ReadsTheWorkersCounters) {
  NotifyMessage m = parse_notify_message(
      "WATCHDOG=1\nX_REQUESTS_SERVED=1234\nX_REQUESTS_IN_FLIGHT=3\nX_OLDEST_REQUEST_AGE=2.5");
  EXPECT_TRUE(m.watchdog);
  EXPECT_EQ(m.requests_served, 1234u);
  EXPECT_EQ(m.requests_in_flight, 3u);
  ASSERT_TRUE(m.oldest_request_age.has_value());
  EXPECT_DOUBLE_EQ(*m.oldest_request_age, 2.5);
}

TEST(NotifyMessage, IgnoresCountersThatAreNotNumbers) {
  NotifyMessage m = parse_notify_message(
      "X_REQUESTS_SERVED=12x\nX_REQUESTS_IN_FLIGHT=-1\nX_OLDEST_REQUEST_AGE=nan\n"
      "X_REQUESTS_SERVED_TOTAL=5\nX_OLDEST_REQUEST_AGE=-3");
  EXPECT_TRUE(m.empty());
}

TEST(SlotAllocator, HandsOutTheLowestFreeSlot) {
  SlotAllocator s;
  EXPECT_EQ(s.acquire(), 1u);
  EXPECT_EQ(s.acquire(), 2u);
  EXPECT_EQ(s.acquire(), 3u);
  s.release(2);
  EXPECT_FALSE(s.in_use(2));
  EXPECT_EQ(s.acquire(), 2u);  // a respawn takes the freed slot
  s.release(1);
  s.release(3);
  EXPECT_EQ(s.acquire(), 1u);
  EXPECT_EQ(s.acquire(), 3u);
  EXPECT_EQ(s.acquire(), 4u);
}

TEST(Shutdown, GracefulWaitsThenKillsThenGivesUp) {
  Shutdown s;
  EXPECT_EQ(s.begin(true, Seconds(30), at(100)), Shutdown::Begin::kFirst);
  EXPECT_TRUE(s.stopping());
  EXPECT_EQ(s.deadline(), at(130));
  EXPECT_EQ(s.begin(true, Seconds(30), at(101)), Shutdown::Begin::kIgnored);
  EXPECT_EQ(s.check(true, at(129)), Shutdown::Step::kWait);
  EXPECT_EQ(s.check(true, at(130)), Shutdown::Step::kKillAll);
  EXPECT_EQ(s.check(true, at(132)), Shutdown::Step::kWait);
  EXPECT_EQ(s.check(true, at(133)), Shutdown::Step::kFinish);  // KILL went unanswered
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.check(false, at(134)), Shutdown::Step::kDone);
}

TEST(Shutdown, AFastStopOverridesAGracefulOneAndFinishesWhenNoWorkerIsLeft) {
  Shutdown s;
  s.begin(true, Seconds(30), at(100));
  EXPECT_EQ(s.begin(false, Seconds(30), at(101)), Shutdown::Begin::kEscalated);
  EXPECT_EQ(s.deadline(), at(101) + Shutdown::kFastStopWait);
  EXPECT_EQ(s.begin(false, Seconds(30), at(102)), Shutdown::Begin::kIgnored);
  EXPECT_EQ(s.check(false, at(101.5)), Shutdown::Step::kFinish);
}

}  // namespace
}  // namespace greenfork::arbiter
