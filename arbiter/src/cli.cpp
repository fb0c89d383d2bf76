// From parsed flags to a Config: one pool from flags (a COMMAND or the
// gworker one-liner), or a TOML file with the flags overriding [arbiter].
#include "greenfork/arbiter/cli.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

#include "cli_options.hpp"
#include "config_file.hpp"
#include "greenfork/arbiter/config_loader.hpp"
#include "greenfork/worker_settings.hpp"

namespace greenfork::arbiter {
namespace {

using detail::CliOptions;

// Config keys as the user names them on the command line.
const std::map<std::string, std::string> kFlagOfKey = {
    {"workers", "-w/--workers"},
    {"bind", "-b/--bind"},
    {"env", "-e/--env"},
    {"user", "-u/--user"},
    {"group", "-g/--group"},
    {"timeout", "--timeout"},
    {"graceful_timeout", "--graceful-timeout"},
    {"boot_timeout", "--boot-timeout"},
    {"heartbeat", "--heartbeat"},
    {"max_request_age", "--max-request-age"},
    {"max_surge", "--max-surge"},
    {"max_unavailable", "--max-unavailable"},
    {"cwd", "--chdir"},
    {"chdir", "--chdir"},
    {"pid", "--pid"},
    {"error_logfile", "--error-logfile"},
    {"log_level", "--log-level"},
    {"backlog", "--backlog"},
    {"umask", "--umask"},
    {"name", "-n/--name"},
    {"control_socket", "--control-socket"},
    {"control_bind", "--control-bind"},
    {"control_token_file", "--control-token-file"},
};

std::string flag_of(const std::string& key) {
  auto it = kFlagOfKey.find(key);
  return it != kFlagOfKey.end() ? it->second : key;
}

// The long name CliOptions::given uses for a config key ("--chdir").
std::string long_flag_of(const std::string& key) {
  std::string flag = flag_of(key);
  auto slash = flag.find('/');
  return slash == std::string::npos ? flag : flag.substr(slash + 1);
}

const std::vector<std::string> kPoolFlags = {
    "--workers",      "--bind",      "--env",         "--user",
    "--group",        "--timeout",   "--graceful-timeout", "--boot-timeout",
    "--heartbeat",    "--max-request-age", "--max-surge", "--max-unavailable"};

std::string seconds_text(double v) {
  if (std::floor(v) == v && v < 1e9) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Status apply_arbiter_flags(const CliOptions& o, Config& c) {
  const std::string cwd = detail::current_directory();
  if (o.was_given("--name")) c.name = o.name;
  if (o.was_given("--pid")) c.pid_file = detail::absolute_path(cwd, o.pid_file);
  if (o.was_given("--chdir")) c.chdir = detail::absolute_path(cwd, o.chdir);
  if (o.was_given("--error-logfile")) {
    c.error_logfile = o.error_logfile == "-" ? "-" : detail::absolute_path(cwd, o.error_logfile);
  }
  if (o.was_given("--log-level")) c.log_level = lower(o.log_level);
  if (o.was_given("--backlog")) c.backlog = o.backlog;
  if (o.was_given("--umask")) {
    auto m = detail::parse_umask(o.umask);
    if (!m.ok()) return Status::error("--umask: " + m.status().message());
    c.umask = *m;
  }
  if (o.was_given("--control-socket")) c.control_socket = detail::absolute_path(cwd, o.control_socket);
  if (o.was_given("--control-bind")) c.control_bind = o.control_bind;
  if (o.was_given("--control-token-file")) {
    c.control_token_file = detail::absolute_path(cwd, o.control_token_file);
  }
  return {};
}

StatusOr<Config> config_from_file(const CliOptions& o) {
  if (!o.app.empty() || !o.command.empty()) {
    return Status::error("-c " + o.config_file + " defines the pools: give no APP or -- COMMAND with it");
  }
  for (const std::string& flag : kPoolFlags) {
    if (o.was_given(flag)) {
      return Status::error(flag + " sets a pool's value: with -c put it in a [pools.NAME] table of " +
                           o.config_file);
    }
  }
  if (!o.worker_flags_given.empty()) {
    return Status::error(o.worker_flags_given.front() +
                         " is a gworker option: with -c put it in worker_args of an app pool");
  }
  auto source = detail::read_config_file(o.config_file);
  if (!source.ok()) return source.status();
  Status s = apply_arbiter_flags(o, source->config);
  if (!s.ok()) return s;
  auto file_where = source->where;
  auto where = [file_where, &o](const PoolConfig* pool, const std::string& key) {
    if (pool == nullptr && o.was_given(long_flag_of(key))) return flag_of(key);
    return file_where(pool, key);
  };
  s = finish_config(source->config, where);
  if (!s.ok()) return s;
  return std::move(source->config);
}

StatusOr<Config> config_from_flags(const CliOptions& o) {
  if (o.app.empty() && o.command.empty()) {
    return Status::error(
        "nothing to run: give an APP (e.g. myproject.wsgi:application), -- COMMAND [ARGS...], "
        "or -c FILE.toml (see --help)");
  }
  if (!o.app.empty() && !o.command.empty()) {
    return Status::error("give either APP (" + o.app + ") or -- COMMAND, not both");
  }
  if (o.app.empty() && !o.worker_flags_given.empty()) {
    return Status::error(o.worker_flags_given.front() +
                         " is a gworker option: it needs an APP, not a -- COMMAND");
  }
  Config c;
  Status s = apply_arbiter_flags(o, c);
  if (!s.ok()) return s;
  PoolConfig pool;
  pool.workers = o.workers;
  pool.max_workers = std::max(pool.max_workers, pool.workers);
  pool.binds = o.binds;
  for (const std::string& kv : o.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::error("-e/--env: '" + kv + "' is not KEY=VALUE");
    }
    pool.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  pool.user = o.user;
  pool.group = o.group;
  pool.timeout_seconds = o.timeout;
  pool.graceful_timeout_seconds = o.graceful_timeout;
  pool.boot_timeout_seconds = o.boot_timeout;
  pool.heartbeat = parse_heartbeat_mode(o.heartbeat).value_or(HeartbeatMode::kAuto);
  pool.max_request_age_seconds = o.max_request_age;
  pool.max_surge = o.max_surge;
  pool.max_unavailable = o.max_unavailable;
  if (!o.app.empty()) {
    // Flags both programs use are forwarded as given, paths made absolute;
    // gworker must accept them too, or every worker would exit 2.
    for (const auto& [range, value] : {std::pair{worker_settings::kTimeout, o.timeout},
                                       std::pair{worker_settings::kGracefulTimeout, o.graceful_timeout}}) {
      if (value > range.max) {
        return Status::error(std::string(range.flag) + ": " + seconds_text(value) +
                             " is more than gworker's limit of " + seconds_text(range.max));
      }
    }
    std::vector<std::string> args = o.worker_args;
    if (o.was_given("--timeout")) args.insert(args.end(), {"--timeout", seconds_text(o.timeout)});
    if (o.was_given("--graceful-timeout")) {
      args.insert(args.end(), {"--graceful-timeout", seconds_text(o.graceful_timeout)});
    }
    // gworker has no "trace" level: its most detailed one is "debug".
    if (o.was_given("--log-level")) {
      args.insert(args.end(), {"--log-level", c.log_level == "trace" ? "debug" : c.log_level});
    }
    if (o.was_given("--error-logfile")) args.insert(args.end(), {"--error-logfile", c.error_logfile});
    if (o.was_given("--chdir")) args.insert(args.end(), {"--chdir", c.chdir});
    pool.command = detail::gworker_command(o.app, args);
    if (pool.binds.empty()) pool.binds = detail::default_app_binds();
  } else {
    pool.command = o.command;
  }
  c.pools.push_back(std::move(pool));
  auto where = [](const PoolConfig*, const std::string& key) { return flag_of(key); };
  s = finish_config(c, where);
  if (!s.ok()) return s;
  return c;
}

// Paths in the saved args made absolute, so a reload after --chdir still
// finds the same config file.
std::vector<std::string> absolute_args(std::vector<std::string> args) {
  const std::string cwd = detail::current_directory();
  for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    for (const char* flag : {"-c", "--config", "--chdir"}) {
      const std::string f = flag;
      if (args[i] == f && i + 1 < args.size()) {
        args[i + 1] = detail::absolute_path(cwd, args[i + 1]);
        ++i;
        break;
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        args[i] = f + "=" + detail::absolute_path(cwd, args[i].substr(f.size() + 1));
        break;
      }
    }
  }
  return args;
}

}  // namespace

StatusOr<Config> config_from_args(const std::vector<std::string>& args) {
  auto o = detail::parse_cli_options(args);
  if (!o.ok()) return o.status();
  if (o->action != CliOptions::Action::kRun) return Status::error("no configuration in --help/--version");
  return o->config_file.empty() ? config_from_flags(*o) : config_from_file(*o);
}

CliOutcome parse_cli(int argc, char** argv) {
  CliOutcome out;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto o = detail::parse_cli_options(args);
  if (!o.ok()) {
    std::cerr << "arbiterd: " << o.status().message() << "\n";
    out.exit_code = 2;
    return out;
  }
  if (o->action == CliOptions::Action::kHelp) {
    std::cout << o->help_text;
    return out;
  }
  if (o->action == CliOptions::Action::kVersion) {
    std::cout << kVersionText << "\n";
    return out;
  }
  auto config = o->config_file.empty() ? config_from_flags(*o) : config_from_file(*o);
  if (!config.ok()) {
    std::cerr << "arbiterd: " << config.status().message() << "\n";
    out.exit_code = 2;
    return out;
  }
  if (o->check_config) {
    std::size_t n = config->pools.size();
    std::cout << "config OK: " << n << (n == 1 ? " pool" : " pools") << "\n";
    return out;
  }
  out.run = true;
  out.config = std::move(*config);
  out.args = absolute_args(std::move(args));
  return out;
}

}  // namespace greenfork::arbiter
