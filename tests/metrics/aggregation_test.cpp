// Beats in, pool totals out: the wire fields, restart reasons, monotonic
// totals across worker exits, the request rate, /proc parsing.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include "greenfork/arbiter/metrics/proc_sample.hpp"
#include "greenfork/arbiter/metrics/worker_metrics.hpp"
#include "greenfork/arbiter/notify_message.hpp"

namespace greenfork::arbiter {
namespace {

TEST(RequestCounters, RecordClassesAndBuckets) {
  RequestCounters c;
  c.record(101, 0.001);
  c.record(204, 0.005);   // on a bound: that bucket (le is inclusive)
  c.record(302, 0.0051);
  c.record(418, 11);
  c.record(0, 1);         // no status sent: 5xx
  EXPECT_EQ(c.by_class[0], 1u);
  EXPECT_EQ(c.by_class[1], 1u);
  EXPECT_EQ(c.by_class[2], 1u);
  EXPECT_EQ(c.by_class[3], 1u);
  EXPECT_EQ(c.by_class[4], 1u);
  EXPECT_EQ(c.buckets[0], 2u);
  EXPECT_EQ(c.buckets[1], 1u);
  EXPECT_EQ(c.buckets[7], 1u);   // le=1
  EXPECT_EQ(c.buckets[11], 1u);  // +Inf
  EXPECT_EQ(c.requests(), 5u);
  EXPECT_EQ(c.observations(), 5u);
}

TEST(NotifyMessage, CarriesTheMetricsFields) {
  RequestCounters c;
  c.record(200, 0.02);
  c.record(500, 3);
  const std::string beat = "WATCHDOG=1\nX_REQUESTS_SERVED=2\nX_CONNECTIONS=5\n" + c.notify_fields();
  NotifyMessage m = parse_notify_message(beat);
  ASSERT_TRUE(m.requests_by_class && m.duration_buckets && m.duration_sum && m.connections);
  EXPECT_EQ(*m.requests_by_class, c.by_class);
  EXPECT_EQ(*m.duration_buckets, c.buckets);
  EXPECT_DOUBLE_EQ(*m.duration_sum, 3.02);
  EXPECT_EQ(*m.connections, 5u);
}

TEST(NotifyMessage, IgnoresMalformedMetricsFields) {
  for (const char* bad : {"X_REQUESTS_BY_CLASS=1,2,3,4", "X_REQUESTS_BY_CLASS=1,2,3,4,5,6",
                          "X_REQUESTS_BY_CLASS=1,2,,4,5", "X_REQUESTS_BY_CLASS=1,2,3,4,-5",
                          "X_REQUESTS_BY_CLASS=1,2,3,4,5,", "X_REQUESTS_BY_CLASS=a,2,3,4,5"}) {
    EXPECT_FALSE(parse_notify_message(bad).requests_by_class) << bad;
  }
  EXPECT_FALSE(parse_notify_message("X_DURATION_BUCKETS=1,2,3").duration_buckets);
  EXPECT_FALSE(parse_notify_message("X_DURATION_SUM=-1").duration_sum);
  EXPECT_FALSE(parse_notify_message("X_DURATION_SUM=inf").duration_sum);
}

TEST(RestartReason, FromStopCauseOrWaitStatus) {
  const int exit1 = 1 << 8;  // exited with status 1
  const int killed = SIGKILL;
  ASSERT_TRUE(WIFEXITED(exit1));
  ASSERT_TRUE(WIFSIGNALED(killed));
  EXPECT_EQ(classify_restart(StopCause::kNone, true, exit1), RestartReason::kExit);
  EXPECT_EQ(classify_restart(StopCause::kNone, true, killed), RestartReason::kSignal);
  EXPECT_EQ(classify_restart(StopCause::kHeartbeatTimeout, false, killed), RestartReason::kHeartbeatTimeout);
  EXPECT_EQ(classify_restart(StopCause::kMaxRequests, false, 0), RestartReason::kMaxRequests);
  EXPECT_EQ(classify_restart(StopCause::kMemory, false, killed), RestartReason::kMemory);
  EXPECT_FALSE(classify_restart(StopCause::kNone, false, 0));  // scaled down, reloaded
  EXPECT_STREQ(to_string(RestartReason::kHeartbeatTimeout), "heartbeat_timeout");
}

TEST(PoolMetrics, TotalsStayMonotonicAcrossWorkerExits) {
  const MonoTime t0{};
  PoolMetrics pool;
  WorkerMetrics a;
  RequestCounters c;
  c.record(200, 0.01);
  c.record(404, 0.01);
  NotifyMessage m;
  m.requests_by_class = c.by_class;
  m.duration_buckets = c.buckets;
  m.duration_sum = c.duration_sum;
  m.requests_served = 2;
  a.on_beat(m, t0);
  EXPECT_TRUE(a.reports_counters);
  // A beat missing a field leaves the counters as they were.
  NotifyMessage partial;
  partial.requests_by_class = std::array<uint64_t, 5>{};
  a.on_beat(partial, t0);
  EXPECT_EQ(a.counters.requests(), 2u);
  pool.retire(a, 2);
  // A worker that only reports how many it served (a gRPC beat, another
  // program): its requests count as unclassified.
  WorkerMetrics b;
  pool.retire(b, 5);
  EXPECT_EQ(pool.retired.requests(), 2u);
  EXPECT_EQ(pool.retired.by_class[3], 1u);
  EXPECT_EQ(pool.retired_unclassified, 5u);
  pool.count_restart(RestartReason::kSignal);
  EXPECT_EQ(pool.restarts[static_cast<size_t>(RestartReason::kSignal)], 1u);
}

TEST(WorkerMetrics, RateOverAtLeastASecond) {
  WorkerMetrics w;
  const MonoTime t0{};
  w.on_served(100, t0);
  w.on_served(150, t0 + Seconds(0.5));  // too soon: no rate yet
  EXPECT_EQ(w.requests_per_second, 0);
  w.on_served(300, t0 + Seconds(2));
  EXPECT_DOUBLE_EQ(w.requests_per_second, 100);
  w.on_served(3, t0 + Seconds(4));  // a restarted count: start over
  EXPECT_DOUBLE_EQ(w.requests_per_second, 100);
  w.on_served(13, t0 + Seconds(5));
  EXPECT_DOUBLE_EQ(w.requests_per_second, 10);
}

TEST(ProcSample, CpuSecondsFromStat) {
  // Fields 14 and 15 (utime, stime) after a command with spaces and ')'.
  const char* stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1";
  EXPECT_DOUBLE_EQ(parse_cpu_seconds(stat, 100).value_or(-1), 3.0);
  EXPECT_FALSE(parse_cpu_seconds("1234 (x) S 1 2", 100));
  EXPECT_FALSE(parse_cpu_seconds("garbage", 100));
  EXPECT_TRUE(process_cpu_seconds(::getpid()).has_value());
  EXPECT_FALSE(tcp_accept_queue(0).has_value());  // stdin is no TCP listener
}

}  // namespace
}  // namespace greenfork::arbiter
