// The exposition text, format negotiation, readiness and the status page,
// from hand-built snapshots.
#include <gtest/gtest.h>

#include <string>

#include "greenfork/arbiter/metrics/exposition.hpp"
#include "greenfork/arbiter/metrics/metrics_endpoint.hpp"
#include "greenfork/arbiter/metrics/status_page.hpp"

namespace greenfork::arbiter {
namespace {

ArbiterSnapshot two_pools() {
  ArbiterSnapshot s;
  s.version = "1.2.3";
  s.start_unix_time = 1700000000.5;
  PoolSnapshot web;
  web.name = "web";
  web.desired = 2;
  web.ready = 1;
  web.requests.record(200, 0.003);
  web.requests.record(200, 0.2);
  web.requests.record(503, 20);
  web.requests_unclassified = 4;
  web.restarts_by_reason = {1, 2, 3, 4, 5};
  web.reloads = 7;
  web.listen_queues.push_back({"127.0.0.1:8000", 9});
  WorkerSnapshot a;
  a.slot = 1;
  a.pid = 101;
  a.state = WorkerState::kReady;
  a.requests_in_flight = 2;
  a.connections = 3;
  a.rss_bytes = 4096;
  a.cpu_seconds = 1.5;
  a.requests_served = 11;
  WorkerSnapshot b = a;
  b.slot = 2;
  b.pid = 102;
  b.state = WorkerState::kStarting;
  b.cpu_seconds = -1;
  web.workers = {a, b};
  PoolSnapshot odd;
  odd.name = "we\"ird\\pool\n";
  odd.state = PoolState::kFailed;
  s.pools = {web, odd};
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Exposition, CountersHistogramAndGaugesInTextFormat) {
  const std::string t = render_metrics(two_pools(), ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(has_line(t, "# TYPE greenfork_requests_total counter")) << t;
  EXPECT_TRUE(has_line(t, R"(greenfork_requests_total{pool="web",status_class="2xx"} 2)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_requests_total{pool="web",status_class="5xx"} 1)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_requests_total{pool="web",status_class="unknown"} 4)"));
  // Buckets are cumulative; 20 s is above the last bound.
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_bucket{pool="web",le="0.005"} 1)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_bucket{pool="web",le="0.25"} 2)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_bucket{pool="web",le="10"} 2)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_bucket{pool="web",le="+Inf"} 3)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_count{pool="web"} 3)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_request_duration_seconds_sum{pool="web"} 20.203)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_requests_in_flight{pool="web"} 4)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_connections{pool="web"} 6)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_workers{pool="web",state="ready"} 1)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_workers{pool="web",state="starting"} 1)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_workers{pool="web",state="draining"} 0)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_worker_restarts_total{pool="web",reason="heartbeat_timeout"} 3)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_worker_restarts_total{pool="web",reason="memory"} 5)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_reloads_total{pool="web"} 7)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_listen_queue{pool="web",listener="127.0.0.1:8000"} 9)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_worker_resident_memory_bytes{pool="web",slot="1",pid="101"} 4096)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_worker_cpu_seconds_total{pool="web",slot="1",pid="101"} 1.5)"));
  // Unknown CPU time: no sample rather than a made-up one.
  EXPECT_EQ(t.find(R"(greenfork_worker_cpu_seconds_total{pool="web",slot="2")"), std::string::npos);
  EXPECT_TRUE(has_line(t, R"(greenfork_build_info{version="1.2.3"} 1)"));
  EXPECT_TRUE(has_line(t, R"(greenfork_pool_state{pool="we\"ird\\pool\n",state="failed"} 1)"));
  EXPECT_EQ(t.find("# EOF"), std::string::npos);
}

TEST(Exposition, OpenMetricsNamesFamiliesWithoutSuffixesAndEnds) {
  const std::string t = render_metrics(two_pools(), ExpositionFormat::kOpenMetrics);
  EXPECT_TRUE(has_line(t, "# TYPE greenfork_requests counter")) << t;
  EXPECT_TRUE(has_line(t, "# TYPE greenfork_build info"));
  EXPECT_TRUE(has_line(t, R"(greenfork_requests_total{pool="web",status_class="2xx"} 2)"));
  EXPECT_EQ(t.substr(t.size() - 6), "# EOF\n");
}

TEST(Exposition, NegotiatesByAccept) {
  EXPECT_EQ(negotiate_format(""), ExpositionFormat::kPrometheusText);
  EXPECT_EQ(negotiate_format("text/plain;version=0.0.4"), ExpositionFormat::kPrometheusText);
  EXPECT_EQ(negotiate_format("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(negotiate_format("text/plain, application/openmetrics-text; q=0"), ExpositionFormat::kPrometheusText);
  EXPECT_STREQ(content_type(ExpositionFormat::kPrometheusText), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(Readiness, EveryPoolNeedsAReadyWorkerAndNoneFailed) {
  ArbiterSnapshot s = two_pools();
  auto why = not_ready_reason(s);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("failed"), std::string::npos);
  s.pools.pop_back();
  EXPECT_FALSE(not_ready_reason(s)) << *not_ready_reason(s);
  s.pools[0].ready = 0;
  EXPECT_EQ(not_ready_reason(s).value_or(""), "pool web: no READY worker");
  s.pools.clear();
  EXPECT_TRUE(not_ready_reason(s));
}

TEST(StatusPage, ShowsPoolsWorkersAndEventsEscaped) {
  std::deque<SupervisorEvent> events;
  SupervisorEvent e;
  e.kind = SupervisorEvent::Kind::kWorkerExited;
  e.pool = "web";
  e.pid = 101;
  e.detail = "<script>x</script>";
  events.push_back(e);
  const std::string h = render_status_page(two_pools(), events);
  EXPECT_NE(h.find("<meta http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(h.find(">web<"), std::string::npos);
  EXPECT_NE(h.find("<td class=\"pid\">102</td>"), std::string::npos);
  EXPECT_NE(h.find("worker exited"), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(h.find("we&quot;ird"), std::string::npos);
}

TEST(RecentEvents, KeepsTheLastOnes) {
  RecentEvents r(3);
  for (unsigned i = 0; i < 5; ++i) {
    SupervisorEvent e;
    e.slot = i;
    r.add(e);
  }
  ASSERT_EQ(r.events().size(), 3u);
  EXPECT_EQ(r.events().front().slot, 2u);
  EXPECT_EQ(r.events().back().slot, 4u);
}

}  // namespace
}  // namespace greenfork::arbiter
