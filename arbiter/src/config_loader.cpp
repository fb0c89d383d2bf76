// The checks every Config passes before anything starts, whether it came
// from flags or a file, and the path/command resolution they need.
#include "greenfork/arbiter/config_loader.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "config_file.hpp"
#include "greenfork/arbiter/listener_set.hpp"
#include "greenfork/listen_address.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::arbiter {
namespace {

using detail::absolute_path;
using detail::WhereFn;

bool is_executable_file(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string pool_path_env(const PoolConfig& pool) {
  for (const auto& [k, v] : pool.env) {
    if (k == "PATH") return v;
  }
  const char* p = std::getenv("PATH");
  return p != nullptr ? p : "/usr/local/bin:/usr/bin:/bin";
}

StatusOr<std::string> locate_with_path(const std::string& name, const std::string& cwd,
                                       const std::string& path_env) {
  const std::string base = cwd.empty() ? detail::current_directory() : cwd;
  if (name.find('/') != std::string::npos) {
    std::string full = absolute_path(base, name);
    struct stat st{};
    if (::stat(full.c_str(), &st) != 0) return Status::from_errno(full);
    if (!S_ISREG(st.st_mode)) return Status::error(full + ": not a regular file");
    if (::access(full.c_str(), X_OK) != 0) return Status::error(full + ": not executable");
    return full;
  }
  std::string not_executable;
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    std::string full = absolute_path(base, (dir.empty() ? "." : dir) + "/" + name);
    if (is_executable_file(full)) return full;
    if (not_executable.empty() && ::access(full.c_str(), F_OK) == 0) not_executable = full;
    start = end + 1;
  }
  if (!not_executable.empty()) return Status::error(not_executable + ": not executable");
  return Status::error("command '" + name + "' not found on PATH");
}

bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status check_pool(Config& config, PoolConfig& pool, const std::string& base,
                  const WhereFn& where) {
  auto fail = [&](const std::string& key, const std::string& what) {
    return Status::error(where(&pool, key) + ": " + what);
  };
  if (pool.name.empty()) return fail("name", "pool names must not be empty");
  if (pool.workers < 1) return fail("workers", "must be at least 1");
  if (pool.workers > pool.max_workers) {
    return fail("workers", std::to_string(pool.workers) + " is more than max_workers (" +
                               std::to_string(pool.max_workers) + ")");
  }
  if (pool.timeout_seconds <= 0) return fail("timeout", "must be more than 0 seconds");
  if (pool.boot_timeout_seconds <= 0) return fail("boot_timeout", "must be more than 0 seconds");
  if (pool.max_surge == 0 && pool.max_unavailable == 0) {
    return fail("max_surge", "max_surge and max_unavailable cannot both be 0 (a reload could not progress)");
  }
  if (pool.autoscale.enabled()) {
    if (pool.autoscale.max > pool.max_workers) {
      return fail("autoscale", "max " + std::to_string(pool.autoscale.max) + " is more than max_workers (" +
                                   std::to_string(pool.max_workers) + ")");
    }
    if (pool.autoscale.cooldown_seconds <= 0) return fail("autoscale", "cooldown must be more than 0 seconds");
  }
  if (pool.backoff.initial_seconds <= 0) return fail("backoff_initial", "must be more than 0 seconds");
  if (pool.backoff.max_seconds < pool.backoff.initial_seconds) {
    return fail("backoff_max", "must not be less than backoff_initial");
  }
  for (const auto& [k, v] : pool.env) {
    if (k.empty() || k.find('=') != std::string::npos) {
      return fail("env", "bad variable name '" + k + "'");
    }
  }
  pool.cwd = pool.cwd.empty() ? std::string() : absolute_path(base, pool.cwd);
  if (!pool.cwd.empty() && !is_directory(pool.cwd)) {
    return fail("cwd", pool.cwd + ": no such directory");
  }
  if (!pool.user.empty() && ::getpwnam(pool.user.c_str()) == nullptr &&
      (pool.user.find_first_not_of("0123456789") != std::string::npos)) {
    return fail("user", "no such user '" + pool.user + "'");
  }
  if (!pool.group.empty() && ::getgrnam(pool.group.c_str()) == nullptr &&
      (pool.group.find_first_not_of("0123456789") != std::string::npos)) {
    return fail("group", "no such group '" + pool.group + "'");
  }
  if (pool.command.empty() || pool.command.front().empty()) {
    return fail("command", "missing command (set command = [\"prog\", ...] or app = \"module:app\")");
  }
  auto exe = locate_with_path(pool.command.front(), pool.cwd.empty() ? base : pool.cwd,
                              pool_path_env(pool));
  if (!exe.ok()) return fail("command", exe.status().message());
  pool.command.front() = *exe;
  if (pool.binds.empty() && config.pools.size() == 1) pool.binds = systemd_listen_specs();
  return {};
}

}  // namespace

std::string gworker_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "gworker";
  return (self.parent_path() / "gworker").string();
}

StatusOr<std::string> locate_executable(const std::string& name, const std::string& cwd) {
  const char* p = std::getenv("PATH");
  return locate_with_path(name, cwd, p != nullptr ? p : "/usr/local/bin:/usr/bin:/bin");
}

Status finish_config(Config& config, const WhereFn& where) {
  const std::string base_default = config.config_file.empty()
                                       ? detail::current_directory()
                                       : std::filesystem::path(config.config_file).parent_path().string();
  const std::string base = config.chdir.empty() ? base_default : config.chdir;
  auto fail = [&](const std::string& key, const std::string& what) {
    return Status::error(where(nullptr, key) + ": " + what);
  };
  if (!config.chdir.empty() && !is_directory(config.chdir)) {
    return fail("chdir", config.chdir + ": no such directory");
  }
  if (!detail::valid_log_level(config.log_level)) {
    return fail("log_level", "'" + config.log_level + "' is not one of debug, info, warning, error, critical");
  }
  if (config.backlog < 1) return fail("backlog", "must be at least 1");
  if (!config.pid_file.empty()) config.pid_file = absolute_path(base, config.pid_file);
  if (config.error_logfile.empty()) config.error_logfile = "-";
  if (config.error_logfile != "-") config.error_logfile = absolute_path(base, config.error_logfile);
  if (!config.control_socket.empty()) config.control_socket = absolute_path(base, config.control_socket);
  if (!config.control_bind.empty()) {
    auto a = parse_listen_address(config.control_bind);
    if (!a.ok()) return fail("control_bind", a.status().message());
    if (a->kind != ListenAddress::kTcp) return fail("control_bind", "must be HOST:PORT");
    if (config.control_token_file.empty()) {
      return fail("control_bind", "a TCP control address needs control_token_file");
    }
  }
  if (!config.metrics_bind.empty()) {
    auto a = parse_listen_address(config.metrics_bind);
    if (!a.ok()) return fail("metrics_bind", a.status().message());
    if (a->kind == ListenAddress::kFd) return fail("metrics_bind", "must be HOST:PORT or unix:PATH");
    if (a->kind == ListenAddress::kUnix) config.metrics_bind = "unix:" + absolute_path(base, a->path);
  }
  if (!config.control_token_file.empty()) {
    config.control_token_file = absolute_path(base, config.control_token_file);
    if (auto token = read_control_token(config.control_token_file); !token.ok()) {
      return fail("control_token_file", token.status().message());
    }
  }
  if (config.pools.empty()) return fail("pools", "no pools to run");

  std::set<std::string> names;
  std::map<std::string, std::string> bound_by;  // canonical address -> pool
  for (PoolConfig& pool : config.pools) {
    if (!names.insert(pool.name).second) {
      return Status::error(where(&pool, "name") + ": duplicate pool name '" + pool.name + "'");
    }
    Status s = check_pool(config, pool, base, where);
    if (!s.ok()) return s;
    std::set<std::string> own;
    for (const std::string& spec : pool.binds) {
      auto a = parse_listen_address(spec);
      if (!a.ok()) return Status::error(where(&pool, "bind") + ": " + a.status().message());
      std::string canon = a->to_string();
      if (!own.insert(canon).second) {
        return Status::error(where(&pool, "bind") + ": " + canon + " is listed twice");
      }
      auto [it, fresh] = bound_by.emplace(canon, pool.name);
      if (!fresh) {
        return Status::error(where(&pool, "bind") + ": " + canon + " is already bound by pool '" +
                             it->second + "'");
      }
    }
  }
  return {};
}

StatusOr<std::string> read_control_token(const std::string& path) {
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return Status::from_errno(path);
  const int fd = file.get();
  struct stat st {};
  std::string token;
  Status problem;
  if (::fstat(fd, &st) != 0) {
    problem = Status::from_errno(path);
  } else if (!S_ISREG(st.st_mode)) {
    problem = Status::error(path + ": not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    problem = Status::error(path + ": the token file is open to group or others (mode " + mode +
                            "); chmod 600 it");
  } else {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && token.size() < 65536) token.append(buf, static_cast<size_t>(n));
    if (n < 0) problem = Status::from_errno(path);
  }
  if (!problem.ok()) return problem;
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < kMinControlTokenBytes) {
    return Status::error(path + ": the token is " + std::to_string(token.size()) + " bytes; at least " +
                         std::to_string(kMinControlTokenBytes) + " are needed (e.g. head -c 32 /dev/urandom | base64)");
  }
  return token;
}

StatusOr<Config> load_config_file(const std::string& path) {
  auto source = detail::read_config_file(path);
  if (!source.ok()) return source.status();
  Status s = finish_config(source->config, source->where);
  if (!s.ok()) return s;
  return std::move(source->config);
}

}  // namespace greenfork::arbiter
