// Gunicorn's master-side hooks at arbiterd's events (master_hooks.hpp).
#include "greenfork/arbiter/master_hooks.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/settings.hpp"
#include "greenfork/json_text.hpp"

namespace greenfork::arbiter {
namespace {

constexpr const char* kMasterHooks[] = {"on_starting", "on_reload",  "when_ready",       "pre_fork",
                                        "pre_exec",    "child_exit", "nworkers_changed", "on_exit"};

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_quote(items[i]);
  return out + "]";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool is_number(const std::string& text) {
  if (text.empty()) return false;
  char* end = nullptr;
  (void)std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// One setting's value as JSON, typed by the settings table; "" to leave it
// out (a dict's text, a default that is not a plain value).
std::string setting_json(const settings::Setting& s, const std::vector<std::string>* given) {
  using T = settings::Type;
  const std::string text = given != nullptr ? (given->empty() ? "" : given->back()) : s.default_text;
  if (given == nullptr && text == "None") return "null";
  switch (s.type) {
    case T::kBool: {
      std::string v = text;
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v == "true" ? "true" : v == "false" ? "false" : "";
    }
    case T::kInt:
    case T::kNumber: return is_number(text) ? text : json_quote(text);
    case T::kString: return given != nullptr || text.find('(') == std::string::npos ? json_quote(text) : "";
    case T::kList:
      if (given != nullptr) return json_list(*given);
      return text == "[]" ? "[]" : "";
    case T::kDict:
    case T::kCallable: return "";
  }
  return "";
}

}  // namespace

std::string json_quote(const std::string& text) { return json_string(text); }

bool MasterHooks::is_master_hook(const std::string& name) {
  return std::any_of(std::begin(kMasterHooks), std::end(kMasterHooks), [&](const char* h) { return name == h; });
}

bool MasterHooks::wanted(const Config& config) {
  return std::any_of(config.hooks.begin(), config.hooks.end(), is_master_hook);
}

MasterHooks::MasterHooks(HookHost& host, const Config& config) : host_(host), config_(config) {}

std::string MasterHooks::server_json() const {
  // Effective settings server.cfg gets on top of the file's globals.
  const PoolConfig* pool = config_.pools.empty() ? nullptr : &config_.pools.front();
  std::string cfg = "{";
  // Every setting: its default, or the value given (file, GUNICORN_CMD_ARGS,
  // flags); then what arbiterd resolved (absolute paths, the binds).
  for (const settings::Setting& s : settings::all()) {
    auto it = config_.given_settings.find(s.name);
    std::string value = setting_json(s, it != config_.given_settings.end() ? &it->second : nullptr);
    if (!value.empty()) cfg += json_quote(s.name) + ":" + value + ",";
  }
  cfg += "\"bind\":" + json_list(pool != nullptr ? pool->binds : std::vector<std::string>{});
  cfg += ",\"pidfile\":" + (config_.pid_file.empty() ? std::string("null") : json_quote(config_.pid_file));
  cfg += ",\"errorlog\":" + json_quote(config_.error_logfile);
  cfg += ",\"loglevel\":" + json_quote(config_.log_level);
  cfg += ",\"daemon\":" + std::string(config_.daemon ? "true" : "false");
  cfg += ",\"backlog\":" + std::to_string(config_.backlog);
  if (!config_.chdir.empty()) cfg += ",\"chdir\":" + json_quote(config_.chdir);
  if (!config_.config_file.empty()) cfg += ",\"config\":" + json_quote(config_.config_file);
  if (pool != nullptr) {
    cfg += ",\"workers\":" + std::to_string(pool->workers);
    cfg += ",\"timeout\":" + number(pool->timeout_seconds);
    cfg += ",\"graceful_timeout\":" + number(pool->graceful_timeout_seconds);
  }
  cfg += "}";

  unsigned num_workers = 0;
  std::string workers = "[";
  if (snapshot_) {
    ArbiterSnapshot snap = snapshot_();
    for (const PoolSnapshot& p : snap.pools) {
      num_workers += p.desired;
      for (const WorkerSnapshot& w : p.workers) {
        auto age = ages_.find(w.pid);
        workers += (workers.size() > 1 ? "," : "") + std::string("{\"pid\":") + std::to_string(w.pid) +
                   ",\"age\":" + std::to_string(age != ages_.end() ? age->second : 0) +
                   ",\"nr\":" + std::to_string(w.requests_served) + ",\"slot\":" + std::to_string(w.slot) +
                   ",\"pool\":" + json_quote(p.name) + "}";
      }
    }
  } else {
    for (const PoolConfig& p : config_.pools) num_workers += p.workers;
  }
  workers += "]";
  return "{\"pid\":" + std::to_string(::getpid()) + ",\"num_workers\":" + std::to_string(num_workers) +
         ",\"timeout\":" + number(pool != nullptr ? pool->timeout_seconds : 30.0) + ",\"cfg\":" + cfg +
         ",\"workers\":" + workers + "}";
}

std::string MasterHooks::worker_json(pid_t pid, unsigned slot, const std::string& pool) const {
  auto age = ages_.find(pid);
  return "{\"pid\":" + std::to_string(pid) + ",\"age\":" + std::to_string(age != ages_.end() ? age->second : 0) +
         ",\"nr\":0,\"slot\":" + std::to_string(slot) + ",\"pool\":" + json_quote(pool) + "}";
}

std::string MasterHooks::fields(const std::string& args, bool reload) const {
  return std::string(",\"reload\":") + (reload ? "true" : "false") + ",\"server\":" + server_json() +
         ",\"args\":" + args;
}

Status MasterHooks::starting() {
  unsigned n = 0;
  for (const PoolConfig& p : config_.pools) n += p.workers;
  (void)host_.call_now("nworkers_changed", fields("{\"new\":" + std::to_string(n) + ",\"old\":null}"));
  // Gunicorn calls on_starting unguarded: an exception stops it before it binds.
  if (host_.call_now("on_starting", fields("{}")) == HookHost::Outcome::kRaised) {
    return Status::error("the on_starting hook raised an exception (its traceback is above): not starting");
  }
  return {};
}

void MasterHooks::running(std::function<ArbiterSnapshot()> snapshot) {
  snapshot_ = std::move(snapshot);
  // Gunicorn's when_ready runs once the listeners are open, before the
  // first worker is spawned; here it is queued ahead of their pre_fork.
  host_.post("when_ready", fields("{}"));
  host_.begin_async();
}

void MasterHooks::on_event(const SupervisorEvent& e) {
  using K = SupervisorEvent::Kind;
  switch (e.kind) {
    case K::kWorkerSpawned:
      ages_[e.pid] = ++worker_age_;
      host_.post("pre_fork", fields("{\"worker\":" + worker_json(e.pid, e.slot, e.pool) + "}"));
      break;
    case K::kWorkerExited:
      host_.post("child_exit", fields("{\"worker\":" + worker_json(e.pid, e.slot, e.pool) + "}"));
      ages_.erase(e.pid);
      break;
    case K::kPoolScaled: {
      // detail: "OLD -> NEW"
      const auto arrow = e.detail.find(" -> ");
      if (arrow == std::string::npos) break;
      const std::string old_n = e.detail.substr(0, arrow);
      const std::string new_n = e.detail.substr(arrow + 4);
      host_.post("nworkers_changed", fields("{\"new\":" + std::to_string(std::atol(new_n.c_str())) +
                                            ",\"old\":" + std::to_string(std::atol(old_n.c_str())) + "}"));
      break;
    }
    case K::kPoolReloading: host_.post("on_reload", fields("{}", /*reload=*/true)); break;
    case K::kArbiterUpgrading: host_.post("pre_exec", fields("{}")); break;
    default: break;
  }
}

void MasterHooks::exiting() {
  host_.end_async();
  host_.finish_queue_now();  // the last child_exit calls come before on_exit
  (void)host_.call_now("on_exit", fields("{}"));
}

}  // namespace greenfork::arbiter
