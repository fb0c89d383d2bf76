#include "greenfork/arbiter/metrics/status_page.hpp"

#include <cstdio>
#include <ctime>

#include "greenfork/arbiter/metrics/exposition.hpp"
#include "greenfork/arbiter/metrics/worker_metrics.hpp"

namespace greenfork::arbiter {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string duration(double seconds) {
  if (seconds < 0) return "never";
  const auto s = static_cast<long long>(seconds);
  if (s < 120) return fixed(seconds, 1) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
}

std::string mib(uint64_t bytes) { return bytes == 0 ? "-" : fixed(static_cast<double>(bytes) / 1048576.0, 1) + " MiB"; }

std::string clock_time(double unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + "Z";
}

std::string cell(const std::string& text) { return "<td>" + escape_html(text) + "</td>"; }

constexpr const char* kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.4em 0 1em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "th{background:#f2f2f2}td.n{text-align:right}"
    ".running,.ready{color:#176117}.failed{color:#b00020;font-weight:bold}"
    ".reloading,.starting,.draining,.stopping{color:#8a5a00}small{color:#666}";

void pool_section(std::string& h, const PoolSnapshot& p) {
  uint64_t restarts = 0;
  for (uint64_t r : p.restarts_by_reason) restarts += r;
  std::string binds;
  for (const auto& b : p.binds) binds += (binds.empty() ? "" : ", ") + b;
  const char* state = state_label(p.state);
  h += "<h2>Pool <span class=\"pool-name\">" + escape_html(p.name) + "</span> <span class=\"" + state + "\">" +
       state + "</span></h2>\n";
  if (!p.state_reason.empty()) h += "<p class=\"failed\">" + escape_html(p.state_reason) + "</p>\n";
  h += "<table><tr><th>binds</th><th>desired</th><th>running</th><th>ready</th><th>restarts</th>"
       "<th>reloads</th><th>requests</th></tr><tr>" +
       cell(binds.empty() ? "(none)" : binds) + cell(std::to_string(p.desired)) + cell(std::to_string(p.running)) +
       cell(std::to_string(p.ready)) + cell(std::to_string(restarts)) + cell(std::to_string(p.reloads)) +
       cell(std::to_string(p.requests.requests() + p.requests_unclassified)) + "</tr></table>\n";
  h += "<table><tr><th>slot</th><th>pid</th><th>state</th><th>uptime</th><th>last beat</th><th>served</th>"
       "<th>req/s</th><th>in flight</th><th>oldest request</th><th>RSS</th></tr>\n";
  for (const auto& w : p.workers) {
    const char* ws = state_label(w.state);
    h += "<tr>" + cell(std::to_string(w.slot)) + "<td class=\"pid\">" + std::to_string(w.pid) + "</td>" +
         "<td class=\"" + ws + "\">" + ws + "</td>" + cell(duration(w.uptime_seconds)) +
         cell(w.last_heartbeat_age_seconds < 0 ? "never" : duration(w.last_heartbeat_age_seconds) + " ago") +
         cell(std::to_string(w.requests_served)) + cell(fixed(w.requests_per_second, 1)) +
         cell(std::to_string(w.requests_in_flight)) +
         cell(w.requests_in_flight > 0 ? duration(w.oldest_request_age_seconds) : "-") + cell(mib(w.rss_bytes)) +
         "</tr>\n";
  }
  if (p.workers.empty()) h += "<tr><td colspan=\"10\">no workers</td></tr>\n";
  h += "</table>\n";
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* event_kind_name(SupervisorEvent::Kind kind) {
  using K = SupervisorEvent::Kind;
  switch (kind) {
    case K::kWorkerSpawned: return "worker spawned";
    case K::kWorkerReady: return "worker ready";
    case K::kWorkerExited: return "worker exited";
    case K::kWorkerTimedOut: return "worker timed out";
    case K::kWorkerRestarting: return "worker restarting";
    case K::kPoolScaled: return "pool scaled";
    case K::kPoolReloading: return "pool reloading";
    case K::kPoolReloaded: return "pool reloaded";
    case K::kPoolRolledBack: return "pool rolled back";
    case K::kPoolFailed: return "pool failed";
    case K::kArbiterStopping: return "arbiterd stopping";
    case K::kArbiterUpgrading: return "arbiterd upgrading";
  }
  return "event";
}

std::string render_status_page(const ArbiterSnapshot& s, const std::deque<SupervisorEvent>& events) {
  const std::string title = "arbiterd" + (s.name.empty() ? "" : " [" + s.name + "]");
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"" +
                  std::to_string(kStatusPageRefreshSeconds) + "\">\n<title>" + escape_html(title) +
                  "</title>\n<style>" + kStyle + "</style></head><body>\n";
  h += "<h1>" + escape_html(title) + "</h1>\n<p>pid " + std::to_string(s.pid) + " &middot; version " +
       escape_html(s.version) + " &middot; up " + duration(s.uptime_seconds) +
       " &middot; <small>read-only; refreshes every " + std::to_string(kStatusPageRefreshSeconds) +
       "s &middot; <a href=\"/metrics\">/metrics</a></small></p>\n";
  for (const auto& p : s.pools) pool_section(h, p);
  h += "<h2>Recent events</h2>\n<table><tr><th>time</th><th>event</th><th>pool</th><th>slot</th><th>pid</th>"
       "<th>detail</th></tr>\n";
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    h += "<tr>" + cell(clock_time(it->unix_time)) + cell(event_kind_name(it->kind)) + cell(it->pool) +
         cell(it->slot ? std::to_string(it->slot) : "") + cell(it->pid ? std::to_string(it->pid) : "") +
         cell(it->detail) + "</tr>\n";
  }
  if (events.empty()) h += "<tr><td colspan=\"6\">none yet</td></tr>\n";
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace greenfork::arbiter
