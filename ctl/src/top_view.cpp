#include "top_view.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "render.hpp"

namespace greenfork::ctl {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct WorkerRow {
  const v1::PoolStatus* pool;
  const v1::WorkerStatus* worker;
  double cpu_percent;  // -1: unknown
};

double cpu_percent(const v1::WorkerStatus& w, const TopSample* previous, double now) {
  if (w.cpu_seconds() < 0) return -1;
  if (previous != nullptr) {
    auto it = previous->cpu_seconds.find(w.pid());
    const double span = now - previous->at;
    if (it != previous->cpu_seconds.end() && span > 0) {
      return std::max(0.0, (w.cpu_seconds() - it->second) / span * 100);
    }
  }
  // First frame, or a new worker: its average since it started.
  return w.uptime_seconds() > 0 ? w.cpu_seconds() / w.uptime_seconds() * 100 : 0;
}

bool before(const WorkerRow& a, const WorkerRow& b, const std::string& sort) {
  const v1::WorkerStatus& x = *a.worker;
  const v1::WorkerStatus& y = *b.worker;
  if (sort == "pid") return x.pid() < y.pid();
  if (sort == "slot") return x.slot() < y.slot();
  if (sort == "rss") return x.rss_bytes() > y.rss_bytes();
  if (sort == "rps") return x.requests_per_second() > y.requests_per_second();
  if (sort == "inflight") return x.requests_in_flight() > y.requests_in_flight();
  if (sort == "served") return x.requests_served() > y.requests_served();
  return a.cpu_percent > b.cpu_percent;
}

}  // namespace

TopSample top_sample(const v1::StatusReply& reply, double now) {
  TopSample s;
  s.at = now;
  for (const auto& p : reply.pools()) {
    for (const auto& w : p.workers()) s.cpu_seconds[w.pid()] = w.cpu_seconds();
  }
  return s;
}

std::string render_top(const v1::StatusReply& reply, const TopSample* previous, double now, const std::string& sort,
                       const std::deque<std::string>& events, unsigned max_worker_rows) {
  std::vector<WorkerRow> rows;
  double total_rps = 0;
  unsigned workers = 0;
  std::vector<std::vector<std::string>> pools = {
      {"POOL", "STATE", "DESIRED", "READY", "REQ/S", "IN FLIGHT", "RSS", "CPU%", "RESTARTS", "RELOADS"}};
  for (const auto& p : reply.pools()) {
    double rps = 0, cpu = 0;
    uint64_t in_flight = 0, rss = 0;
    for (const auto& w : p.workers()) {
      WorkerRow row{&p, &w, cpu_percent(w, previous, now)};
      rps += w.requests_per_second();
      in_flight += w.requests_in_flight();
      rss += w.rss_bytes();
      cpu += std::max(0.0, row.cpu_percent);
      rows.push_back(row);
      ++workers;
    }
    total_rps += rps;
    pools.push_back({p.name(), enum_name_word(v1::PoolState_Name(p.state()), "POOL_STATE_"), std::to_string(p.desired()),
                     std::to_string(p.ready()), fixed(rps, 1), std::to_string(in_flight), format_bytes(rss),
                     fixed(cpu, 1), std::to_string(p.restarts()), std::to_string(p.reloads())});
  }
  std::stable_sort(rows.begin(), rows.end(), [&sort](const WorkerRow& a, const WorkerRow& b) { return before(a, b, sort); });
  std::string out = "arbiterd pid " + std::to_string(reply.pid()) + (reply.name().empty() ? "" : " [" + reply.name() + "]") +
                    "  up " + format_duration(reply.uptime_seconds()) + "  " + std::to_string(reply.pools_size()) +
                    " pool(s)  " + std::to_string(workers) + " worker(s)  " + fixed(total_rps, 1) +
                    " req/s  sorted by " + sort + "\n\n";
  out += format_table(pools) + "\n";
  std::vector<std::vector<std::string>> table = {
      {"PID", "POOL", "SLOT", "STATE", "REQ/S", "IN FLIGHT", "CONNS", "SERVED", "RSS", "CPU%", "CPU TIME", "UPTIME"}};
  for (size_t i = 0; i < rows.size() && (max_worker_rows == 0 || i < max_worker_rows); ++i) {
    const v1::WorkerStatus& w = *rows[i].worker;
    table.push_back({std::to_string(w.pid()), rows[i].pool->name(), std::to_string(w.slot()),
                     enum_name_word(v1::WorkerState_Name(w.state()), "WORKER_STATE_"),
                     fixed(w.requests_per_second(), 1), std::to_string(w.requests_in_flight()),
                     std::to_string(w.connections()), std::to_string(w.requests_served()), format_bytes(w.rss_bytes()),
                     rows[i].cpu_percent < 0 ? "-" : fixed(rows[i].cpu_percent, 1),
                     w.cpu_seconds() < 0 ? "-" : format_duration(w.cpu_seconds()), format_duration(w.uptime_seconds())});
  }
  out += format_table(table);
  if (max_worker_rows != 0 && rows.size() > max_worker_rows) {
    out += "... " + std::to_string(rows.size() - max_worker_rows) + " more\n";
  }
  if (!events.empty()) {
    out += "\nEVENTS\n";
    for (const auto& e : events) out += e + "\n";
  }
  return out;
}

}  // namespace greenfork::ctl
