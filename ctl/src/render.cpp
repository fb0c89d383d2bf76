#include "render.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <sstream>
#include <vector>

namespace greenfork::ctl {
namespace {

using Row = std::vector<std::string>;

std::string table(const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

// WORKER_STATE_READY -> "ready", POOL_STATE_RUNNING -> "running".
std::string enum_word(const std::string& name, const std::string& prefix) {
  std::string word = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return word;
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) { return table(rows); }

std::string enum_name_word(const std::string& name, const std::string& prefix) { return enum_word(name, prefix); }

std::string format_duration(double seconds) {
  if (seconds < 0 || std::isnan(seconds)) return "-";
  if (seconds < 10) {
    std::ostringstream os;
    os.precision(1);
    os << std::fixed << seconds << "s";
    return os.str();
  }
  auto s = static_cast<long long>(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes == 0) return "-";
  const char* units[] = {"B", "K", "M", "G", "T"};
  auto value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0 || value >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f%s", value, units[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%s", value, units[unit]);
  }
  return buf;
}

std::string render_status(const v1::StatusReply& reply) {
  std::string out = "arbiterd";
  if (!reply.name().empty()) out += " [" + reply.name() + "]";
  out += "  pid " + std::to_string(reply.pid()) + "  version " + reply.version() + "  up " +
         format_duration(reply.uptime_seconds()) + "\n\n";

  std::vector<Row> pools = {{"POOL", "STATE", "DESIRED", "RUNNING", "READY", "RESTARTS",
                             "HEARTBEAT", "BINDS", "COMMAND"}};
  std::vector<Row> workers = {{"POOL", "SLOT", "PID", "STATE", "UPTIME", "LAST BEAT", "SERVED",
                               "IN FLIGHT", "RSS", "GEN"}};
  std::string reasons;
  for (const auto& pool : reply.pools()) {
    pools.push_back({pool.name(), enum_word(v1::PoolState_Name(pool.state()), "POOL_STATE_"),
                     std::to_string(pool.desired()), std::to_string(pool.running()),
                     std::to_string(pool.ready()), std::to_string(pool.restarts()),
                     pool.heartbeat(), join(pool.binds()), join(pool.command())});
    if (!pool.state_reason().empty()) reasons += pool.name() + ": " + pool.state_reason() + "\n";
    for (const auto& w : pool.workers()) {
      workers.push_back({pool.name(), std::to_string(w.slot()), std::to_string(w.pid()),
                         enum_word(v1::WorkerState_Name(w.state()), "WORKER_STATE_"),
                         format_duration(w.uptime_seconds()),
                         format_duration(w.last_heartbeat_age_seconds()),
                         std::to_string(w.requests_served()), std::to_string(w.requests_in_flight()),
                         format_bytes(w.rss_bytes()), std::to_string(w.generation())});
    }
  }
  out += table(pools);
  if (!reasons.empty()) out += reasons;
  out += "\n";
  if (workers.size() == 1) return out + "(no workers)\n";
  return out + table(workers);
}

std::string render_event(const v1::Event& event) {
  const auto seconds = static_cast<time_t>(event.unix_time());
  const auto millis = static_cast<int>((event.unix_time() - static_cast<double>(seconds)) * 1000);
  tm local{};
  localtime_r(&seconds, &local);
  char when[32];
  std::snprintf(when, sizeof when, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min,
                local.tm_sec, std::clamp(millis, 0, 999));
  std::string line = std::string(when) + "  " + enum_word(v1::Event::Kind_Name(event.kind()), "");
  if (!event.pool().empty()) line += "  " + event.pool();
  if (event.pid() != 0) {
    line += "  slot=" + std::to_string(event.slot()) + " pid=" + std::to_string(event.pid());
  }
  if (!event.detail().empty()) line += "  " + event.detail();
  return line;
}

}  // namespace greenfork::ctl
