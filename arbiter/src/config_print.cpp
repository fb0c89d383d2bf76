// --print-config for a TOML file: every key of the loaded Config, as
// "table.key = value" lines sorted by key (Gunicorn prints its settings
// sorted), the command line's overrides applied.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "config_file.hpp"

namespace greenfork::arbiter::detail {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
  return out + "]";
}

}  // namespace

std::string print_toml_config(const Config& c) {
  std::vector<std::pair<std::string, std::string>> lines;
  auto add = [&lines](const std::string& key, const std::string& value) { lines.emplace_back(key, value); };
  char umask[16];
  std::snprintf(umask, sizeof umask, "0o%03o", static_cast<unsigned>(c.umask));
  add("arbiter.backlog", std::to_string(c.backlog));
  add("arbiter.chdir", quoted(c.chdir));
  add("arbiter.control_bind", quoted(c.control_bind));
  add("arbiter.control_socket", quoted(c.control_socket));
  add("arbiter.control_token_file", quoted(c.control_token_file));
  add("arbiter.error_logfile", quoted(c.error_logfile));
  add("arbiter.log_level", quoted(c.log_level));
  add("arbiter.metrics_bind", quoted(c.metrics_bind));
  add("arbiter.log_format", quoted(c.log_format));
  add("arbiter.name", quoted(c.name));
  add("arbiter.pid", quoted(c.pid_file));
  add("arbiter.umask", umask);
  add("config", quoted(c.config_file));
  for (const PoolConfig& p : c.pools) {
    const std::string t = "pools." + p.name + ".";
    std::string env = "{";
    for (const auto& [k, v] : p.env) env += (env.size() > 1 ? ", " : " ") + k + " = " + quoted(v);
    env += env.size() > 1 ? " }" : "}";
    add(t + "bind", list(p.binds));
    add(t + "boot_timeout", number(p.boot_timeout_seconds));
    add(t + "command", list(p.command));
    add(t + "cwd", quoted(p.cwd));
    add(t + "env", env);
    add(t + "graceful_timeout", number(p.graceful_timeout_seconds));
    add(t + "group", quoted(p.group));
    add(t + "heartbeat", quoted(to_string(p.heartbeat)));
    add(t + "max_request_age", number(p.max_request_age_seconds));
    add(t + "max_surge", std::to_string(p.max_surge));
    add(t + "max_unavailable", std::to_string(p.max_unavailable));
    add(t + "max_workers", std::to_string(p.max_workers));
    add(t + "max_worker_memory", std::to_string(p.max_worker_memory_bytes));
    if (p.autoscale.enabled()) {
      add(t + "autoscale", "{ min = " + std::to_string(p.autoscale.min) + ", max = " +
                               std::to_string(p.autoscale.max) + ", cooldown = " +
                               number(p.autoscale.cooldown_seconds) + " }");
    }
    add(t + "timeout", number(p.timeout_seconds));
    add(t + "user", quoted(p.user));
    add(t + "workers", std::to_string(p.workers));
  }
  std::sort(lines.begin(), lines.end());
  std::size_t width = 0;
  for (const auto& l : lines) width = std::max(width, l.first.size());
  std::string out;
  for (auto& [key, value] : lines) {
    std::string k = key;
    k.resize(width, ' ');
    out += k + " = " + value + "\n";
  }
  return out;
}

}  // namespace greenfork::arbiter::detail
