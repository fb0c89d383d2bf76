#include "greenfork/arbiter/metrics/exposition.hpp"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include "greenfork/arbiter/metrics/worker_metrics.hpp"

namespace greenfork::arbiter {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string number(uint64_t v) { return std::to_string(v); }

// Writes families in the chosen format. Counters are declared by their
// name without "_total" in OpenMetrics and with it in the text format.
class Writer {
 public:
  explicit Writer(ExpositionFormat f) : open_metrics_(f == ExpositionFormat::kOpenMetrics) {}

  void family(const std::string& name, const char* type, const char* help) {
    std::string declared = name;
    std::string t = type;
    if (t == "counter" && open_metrics_) declared = name.substr(0, name.size() - 6);  // "_total"
    if (t == "info") {
      declared = name.substr(0, name.size() - 5);  // "_info"
      if (!open_metrics_) {
        declared = name;
        t = "gauge";
      }
    }
    out_ += "# HELP " + declared + " " + help + "\n# TYPE " + declared + " " + t + "\n";
  }

  void sample(const std::string& name, const Labels& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
      }
      out_ += '}';
    }
    out_ += ' ' + value + '\n';
  }

  std::string finish() {
    if (open_metrics_) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
  bool open_metrics_;
  std::string out_;
};

constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr WorkerState kWorkerStates[] = {WorkerState::kStarting, WorkerState::kReady, WorkerState::kDraining,
                                         WorkerState::kStopping};
constexpr PoolState kPoolStates[] = {PoolState::kRunning, PoolState::kReloading, PoolState::kStopped,
                                     PoolState::kFailed};

void requests(Writer& w, const ArbiterSnapshot& s) {
  w.family("greenfork_requests_total", "counter",
           "Requests answered by the pool's workers, by status class (unknown: workers that report no classes).");
  for (const auto& p : s.pools) {
    for (size_t i = 0; i < 5; ++i) {
      w.sample("greenfork_requests_total", {{"pool", p.name}, {"status_class", kClasses[i]}},
               number(p.requests.by_class[i]));
    }
    w.sample("greenfork_requests_total", {{"pool", p.name}, {"status_class", "unknown"}},
             number(p.requests_unclassified));
  }
  w.family("greenfork_request_duration_seconds", "histogram",
           "Time from a request's head received to its response written, across the pool's workers.");
  for (const auto& p : s.pools) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < p.requests.buckets.size(); ++i) {
      cumulative += p.requests.buckets[i];
      const std::string le = i < kDurationBounds.size() ? number(kDurationBounds[i]) : "+Inf";
      w.sample("greenfork_request_duration_seconds_bucket", {{"pool", p.name}, {"le", le}}, number(cumulative));
    }
    w.sample("greenfork_request_duration_seconds_sum", {{"pool", p.name}}, number(p.requests.duration_sum));
    w.sample("greenfork_request_duration_seconds_count", {{"pool", p.name}}, number(cumulative));
  }
}

void pool_gauges(Writer& w, const ArbiterSnapshot& s) {
  w.family("greenfork_requests_in_flight", "gauge", "Requests the pool's workers are serving now.");
  for (const auto& p : s.pools) {
    uint64_t n = 0;
    for (const auto& wk : p.workers) n += wk.requests_in_flight;
    w.sample("greenfork_requests_in_flight", {{"pool", p.name}}, number(n));
  }
  w.family("greenfork_connections", "gauge", "Client connections open in the pool's workers.");
  for (const auto& p : s.pools) {
    uint64_t n = 0;
    for (const auto& wk : p.workers) n += wk.connections;
    w.sample("greenfork_connections", {{"pool", p.name}}, number(n));
  }
  w.family("greenfork_workers", "gauge", "Worker processes of the pool, by state.");
  for (const auto& p : s.pools) {
    for (WorkerState st : kWorkerStates) {
      uint64_t n = 0;
      for (const auto& wk : p.workers) n += wk.state == st ? 1 : 0;
      w.sample("greenfork_workers", {{"pool", p.name}, {"state", state_label(st)}}, number(n));
    }
  }
  w.family("greenfork_workers_desired", "gauge", "The pool's target worker count.");
  for (const auto& p : s.pools) {
    w.sample("greenfork_workers_desired", {{"pool", p.name}}, number(uint64_t{p.desired}));
  }
  w.family("greenfork_pool_state", "gauge", "1 for the pool's current state.");
  for (const auto& p : s.pools) {
    for (PoolState st : kPoolStates) {
      w.sample("greenfork_pool_state", {{"pool", p.name}, {"state", state_label(st)}},
               p.state == st ? "1" : "0");
    }
  }
  w.family("greenfork_worker_restarts_total", "counter",
           "Workers replaced, by reason: exit, signal, heartbeat_timeout, max_requests, memory.");
  for (const auto& p : s.pools) {
    for (size_t i = 0; i < kRestartReasons; ++i) {
      w.sample("greenfork_worker_restarts_total",
               {{"pool", p.name}, {"reason", to_string(static_cast<RestartReason>(i))}},
               number(p.restarts_by_reason[i]));
    }
  }
  w.family("greenfork_reloads_total", "counter", "Rolling reloads of the pool started.");
  for (const auto& p : s.pools) w.sample("greenfork_reloads_total", {{"pool", p.name}}, number(p.reloads));
  w.family("greenfork_listen_queue", "gauge",
           "Connections waiting in a listening TCP socket's accept queue.");
  for (const auto& p : s.pools) {
    for (const auto& q : p.listen_queues) {
      w.sample("greenfork_listen_queue", {{"pool", p.name}, {"listener", q.bind}}, number(q.queued));
    }
  }
}

void worker_samples(Writer& w, const ArbiterSnapshot& s) {
  auto labels = [](const PoolSnapshot& p, const WorkerSnapshot& wk) {
    return Labels{{"pool", p.name}, {"slot", std::to_string(wk.slot)}, {"pid", std::to_string(wk.pid)}};
  };
  w.family("greenfork_worker_resident_memory_bytes", "gauge", "A worker process's resident set size.");
  for (const auto& p : s.pools) {
    for (const auto& wk : p.workers) {
      if (wk.rss_bytes > 0) w.sample("greenfork_worker_resident_memory_bytes", labels(p, wk), number(wk.rss_bytes));
    }
  }
  w.family("greenfork_worker_cpu_seconds_total", "counter", "A worker process's user and system CPU time.");
  for (const auto& p : s.pools) {
    for (const auto& wk : p.workers) {
      if (wk.cpu_seconds >= 0) w.sample("greenfork_worker_cpu_seconds_total", labels(p, wk), number(wk.cpu_seconds));
    }
  }
  w.family("greenfork_worker_requests_served_total", "counter", "Requests a worker process has served.");
  for (const auto& p : s.pools) {
    for (const auto& wk : p.workers) {
      w.sample("greenfork_worker_requests_served_total", labels(p, wk), number(wk.requests_served));
    }
  }
}

}  // namespace

ExpositionFormat negotiate_format(std::string_view accept) {
  size_t pos = 0;
  while (pos < accept.size()) {
    size_t comma = accept.find(',', pos);
    std::string_view item = accept.substr(pos, comma == std::string_view::npos ? accept.npos : comma - pos);
    pos = comma == std::string_view::npos ? accept.size() : comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.rfind("application/openmetrics-text", 0) != 0) continue;
    const size_t q = item.find("q=");
    if (q != std::string_view::npos) {
      const std::string_view qv = item.substr(q + 2);
      if (qv.rfind("0", 0) == 0 && qv.find_first_not_of("0.", 0) == std::string_view::npos) continue;
    }
    return ExpositionFormat::kOpenMetrics;
  }
  return ExpositionFormat::kPrometheusText;
}

const char* content_type(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                  : "text/plain; version=0.0.4; charset=utf-8";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

const char* state_label(WorkerState s) {
  switch (s) {
    case WorkerState::kStarting: return "starting";
    case WorkerState::kReady: return "ready";
    case WorkerState::kDraining: return "draining";
    case WorkerState::kStopping: return "stopping";
  }
  return "starting";
}

const char* state_label(PoolState s) {
  switch (s) {
    case PoolState::kRunning: return "running";
    case PoolState::kReloading: return "reloading";
    case PoolState::kStopped: return "stopped";
    case PoolState::kFailed: return "failed";
  }
  return "running";
}

std::string render_metrics(const ArbiterSnapshot& s, ExpositionFormat format) {
  Writer w(format);
  w.family("greenfork_build_info", "info", "arbiterd's version.");
  w.sample("greenfork_build_info", {{"version", s.version}}, "1");
  w.family("greenfork_start_time_seconds", "gauge", "When arbiterd started, in seconds since the epoch.");
  w.sample("greenfork_start_time_seconds", {}, number(s.start_unix_time));
  requests(w, s);
  pool_gauges(w, s);
  worker_samples(w, s);
  return w.finish();
}

}  // namespace greenfork::arbiter
