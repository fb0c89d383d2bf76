#include "greenfork/arbiter/binary_upgrade.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "greenfork/contract.hpp"

namespace greenfork::arbiter {
namespace {

bool has_name(std::string_view kv, const char* name) {
  size_t n = std::strlen(name);
  return kv.size() > n && kv.compare(0, n, name) == 0 && kv[n] == '=';
}

}  // namespace

std::vector<BinaryUpgrade::Done> BinaryUpgrade::end() {
  pid_ = 0;
  deadline_ = {};
  return std::exchange(waiters_, {});
}

void BinaryUpgrade::fail_waiters(const Status& outcome) {
  for (auto& done : std::exchange(waiters_, {})) done(outcome, 0);
}

SpawnSpec BinaryUpgrade::new_master_spec(const ArbiterOptions& options,
                                         const std::vector<PoolSockets>& sockets,
                                         const std::string& notify_address,
                                         const std::vector<std::string>& environment) {
  SpawnSpec spec;
  spec.exec_path = options.self_exe;
  spec.argv = options.self_argv;
  spec.cwd = options.self_cwd;
  spec.keep_fd_numbers = true;
  spec.set_listen_pid = false;
  spec.own_process_group = false;
  spec.die_with_parent = false;  // the new master outlives us
  std::string fds;
  for (const PoolSockets& ps : sockets) {
    for (size_t i = 0; i < ps.fds.size(); ++i) {
      if (std::find(spec.listen_fds.begin(), spec.listen_fds.end(), ps.fds[i]) != spec.listen_fds.end()) {
        continue;
      }
      spec.listen_fds.push_back(ps.fds[i]);
      std::string name = i < ps.specs.size() ? ps.specs[i] : "";
      fds += (fds.empty() ? "" : ";") + name + "=" + std::to_string(ps.fds[i]);
    }
  }
  for (const std::string& kv : environment) {
    if (has_name(kv, contract::kListenFds) || has_name(kv, contract::kListenFdNames) ||
        has_name(kv, contract::kListenPid) || has_name(kv, contract::kNotifySocket) ||
        has_name(kv, contract::kUpgradeFds) || has_name(kv, contract::kUpgradeParent) ||
        has_name(kv, contract::kUpgradeNotify)) {
      continue;
    }
    spec.env.push_back(kv);
  }
  if (!options.systemd_notify_socket.empty()) {
    spec.env.push_back(std::string(contract::kNotifySocket) + "=" + options.systemd_notify_socket);
  }
  spec.env.push_back(std::string(contract::kUpgradeFds) + "=" + fds);
  spec.env.push_back(std::string(contract::kUpgradeParent) + "=" + std::to_string(::getpid()));
  spec.env.push_back(std::string(contract::kUpgradeNotify) + "=" + notify_address);
  return spec;
}

}  // namespace greenfork::arbiter
