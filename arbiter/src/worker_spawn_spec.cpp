#include "greenfork/arbiter/worker_spawn_spec.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "greenfork/contract.hpp"

namespace greenfork::arbiter {
namespace {

// Variables of arbiterd's own environment a worker must not inherit.
bool is_private_variable(std::string_view kv) {
  for (const char* name : {contract::kListenFds, contract::kListenFdNames, contract::kListenPid,
                           contract::kNotifySocket, contract::kArbiterSocket, contract::kWorkerId,
                           contract::kWorkerToken, contract::kPool, contract::kHeartbeatInterval,
                           contract::kTlsTicketKeys,
                           contract::kUpgradeFds, contract::kUpgradeParent, contract::kUpgradeNotify}) {
    size_t n = std::strlen(name);
    if (kv.size() > n && kv.compare(0, n, name) == 0 && kv[n] == '=') return true;
  }
  return false;
}

void set_var(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  for (auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      kv = key + "=" + value;
      return;
    }
  }
  env.push_back(key + "=" + value);
}

// Random once per arbiterd process (kTlsTicketKeys); "" if no randomness
// could be had (each worker then keeps its own keys).
const std::string& tls_ticket_keys() {
  static const std::string keys = [] {
    unsigned char bytes[80];
    if (::getentropy(bytes, sizeof bytes) != 0) return std::string();
    std::string hex;
    for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
    return hex;
  }();
  return keys;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

StatusOr<SpawnSpec> worker_spawn_spec(const PoolConfig& config, const PoolSockets& sockets,
                                      const WorkerSlot& who, const std::vector<std::string>& environment) {
  if (config.command.empty()) return Status::error("no command");
  std::string path_env;
  for (const auto& [k, v] : config.env) {
    if (k == "PATH") path_env = v;
  }
  if (path_env.empty() && std::getenv("PATH") != nullptr) path_env = std::getenv("PATH");
  auto exec_path = resolve_command(config.command[0], path_env);
  if (!exec_path.ok()) return exec_path.status();

  SpawnSpec spec;
  spec.exec_path = *exec_path;
  spec.argv = config.command;
  spec.listen_fds = sockets.fds;
  spec.cwd = config.cwd;
  if (::geteuid() == 0 && !config.user.empty()) {
    passwd* pw = ::getpwnam(config.user.c_str());
    if (pw == nullptr) return Status::error("unknown user '" + config.user + "'");
    spec.uid = pw->pw_uid;
    spec.gid = pw->pw_gid;
  }
  if (::geteuid() == 0 && !config.group.empty()) {
    group* gr = ::getgrnam(config.group.c_str());
    if (gr == nullptr) return Status::error("unknown group '" + config.group + "'");
    spec.gid = gr->gr_gid;
  }
  if (spec.uid && spec.gid && config.initgroups) {
    // Gunicorn's --initgroups (os.initgroups): the user's groups from the
    // group database, read here because the child may not (not signal-safe).
    int n = 64;
    for (int attempt = 0; attempt < 4; ++attempt) {
      spec.groups.assign(static_cast<std::size_t>(n), 0);
      int got = n;
      if (::getgrouplist(config.user.c_str(), *spec.gid, spec.groups.data(), &got) >= 0) {
        spec.groups.resize(static_cast<std::size_t>(got));
        break;
      }
      n = got > n ? got : n * 4;
      spec.groups.clear();
    }
    if (spec.groups.empty()) return Status::error("cannot read the groups of user '" + config.user + "'");
  }
  for (const std::string& kv : environment) {
    if (!is_private_variable(kv)) spec.env.push_back(kv);
  }
  for (const auto& [k, v] : config.env) set_var(spec.env, k, v);
  set_var(spec.env, contract::kListenFds, std::to_string(sockets.fds.size()));
  set_var(spec.env, contract::kListenFdNames, join(sockets.names, ":"));
  set_var(spec.env, contract::kNotifySocket, who.notify_socket);
  set_var(spec.env, contract::kArbiterSocket, who.control_socket);
  set_var(spec.env, contract::kWorkerId, std::to_string(who.slot));
  set_var(spec.env, contract::kWorkerToken, who.token);
  set_var(spec.env, contract::kPool, config.name);
  // An autoscaled pool decides on its workers' in-flight counts: they beat
  // at least twice a second so that the load it sees is fresh.
  const double interval = config.autoscale.enabled() ? std::min(0.5, config.timeout_seconds / 2)
                                                     : config.timeout_seconds / 2;
  set_var(spec.env, contract::kHeartbeatInterval, fmt::format("{:g}", interval));
  if (!tls_ticket_keys().empty()) set_var(spec.env, contract::kTlsTicketKeys, tls_ticket_keys());
  return spec;
}

}  // namespace greenfork::arbiter
