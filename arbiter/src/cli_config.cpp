// From parsed flags to a Config: one pool from the flags (a COMMAND, or the
// gworker one-liner with the worker flags forwarded), or a TOML file's pools
// with the flags overriding its [arbiter] table.
#include "cli_config.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "cli_extras.hpp"
#include "config_file.hpp"
#include "tls_check.hpp"
#include "greenfork/arbiter/config_loader.hpp"
#include "greenfork/worker_settings.hpp"

namespace greenfork::arbiter::detail {
namespace {

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
    {"max_worker_memory", "--max-worker-memory"},
    {"autoscale", "--autoscale"},
    {"cwd", "--chdir"},
    {"chdir", "--chdir"},
    {"pid", "--pid"},
    {"error_logfile", "--error-logfile"},
    {"log_level", "--log-level"},
    {"log_format", "--log-format"},
    {"backlog", "--backlog"},
    {"umask", "--umask"},
    {"name", "-n/--name"},
    {"control_socket", "--control-socket"},
    {"control_bind", "--control-bind"},
    {"control_token_file", "--control-token-file"},
    {"metrics_bind", "--metrics-bind"},
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
    "--heartbeat",    "--max-request-age", "--max-surge", "--max-unavailable",
    "--max-worker-memory", "--autoscale", "--autoscale-cooldown"};

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
  const std::string cwd = current_directory();
  if (o.was_given("--name")) c.name = o.name;
  if (o.was_given("--pid")) c.pid_file = absolute_path(cwd, o.pid_file);
  if (o.was_given("--chdir")) c.chdir = absolute_path(cwd, o.chdir);
  if (o.was_given("--error-logfile")) {
    c.error_logfile = o.error_logfile == "-" ? "-" : absolute_path(cwd, o.error_logfile);
  }
  if (o.was_given("--log-level")) c.log_level = lower(o.log_level);
  if (Status s = apply_logging_flags(o, c); !s.ok()) return s;
  if (o.was_given("--backlog")) c.backlog = o.backlog;
  if (o.was_given("--daemon")) c.daemon = o.daemon;
  if (o.was_given("--enable-stdio-inheritance")) c.enable_stdio_inheritance = o.stdio_inheritance;
  if (o.was_given("--capture-output")) c.capture_output = o.capture_output;
  if (o.was_given("--reuse-port")) c.reuse_port = o.reuse_port;
  if (o.was_given("--umask")) {
    auto m = parse_umask(o.umask);
    if (!m.ok()) return Status::error("--umask: " + m.status().message());
    c.umask = *m;
  }
  if (o.was_given("--control-socket")) c.control_socket = absolute_path(cwd, o.control_socket);
  if (o.was_given("--control-bind")) c.control_bind = o.control_bind;
  if (o.was_given("--metrics-bind")) c.metrics_bind = o.metrics_bind;
  if (o.was_given("--control-token-file")) {
    c.control_token_file = absolute_path(cwd, o.control_token_file);
  }
  return {};
}

// --max-worker-memory, --autoscale, --autoscale-cooldown onto the one pool.
Status apply_scaling_flags(const CliOptions& o, PoolConfig& pool) {
  if (o.was_given("--max-worker-memory")) {
    auto bytes = parse_size(o.max_worker_memory);
    if (!bytes.ok()) return Status::error("--max-worker-memory: " + bytes.status().message());
    pool.max_worker_memory_bytes = *bytes;
  }
  if (o.was_given("--autoscale")) {
    auto range = parse_autoscale_range(o.autoscale);
    if (!range.ok()) return Status::error("--autoscale: " + range.status().message());
    pool.autoscale.min = range->first;
    pool.autoscale.max = range->second;
    pool.max_workers = std::max(pool.max_workers, pool.autoscale.max);
  }
  if (o.was_given("--autoscale-cooldown")) {
    if (!pool.autoscale.enabled()) return Status::error("--autoscale-cooldown needs --autoscale MIN:MAX");
    pool.autoscale.cooldown_seconds = o.autoscale_cooldown;
  }
  return {};
}

// gworker's arguments: its own flags, then the flags both programs use,
// forwarded as given (paths made absolute); gworker must accept them too, or
// every worker would exit 2.
StatusOr<std::vector<std::string>> worker_args(const CliOptions& o, const Config& c) {
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
  if (o.was_given("--log-format")) args.insert(args.end(), {"--log-format", c.log_format});
  if (c.syslog) {
    args.insert(args.end(), {"--log-syslog", "--log-syslog-to", c.syslog_addr, "--log-syslog-facility",
                             c.syslog_facility, "--log-syslog-prefix", c.syslog_prefix});
  }
  // statsd: arbiterd sends gunicorn.workers, each gworker its request metrics.
  if (!c.statsd_host.empty()) {
    args.insert(args.end(), {"--statsd-host", c.statsd_host});
    if (!c.statsd_prefix.empty()) args.insert(args.end(), {"--statsd-prefix", c.statsd_prefix});
    if (!c.dogstatsd_tags.empty()) args.insert(args.end(), {"--dogstatsd-tags", c.dogstatsd_tags});
  }
  if (o.was_given("--chdir")) args.insert(args.end(), {"--chdir", c.chdir});
  if (Status tls = check_tls_worker_args(args, current_directory()); !tls.ok()) return tls;
  return args;
}

}  // namespace

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
  auto source = read_config_file(o.config_file);
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
  // Gunicorn takes a numeric uid/gid too: the workers are started by name.
  pool.user = o.user;
  pool.group = o.group;
  pool.initgroups = o.initgroups;
  if (!pool.user.empty() && pool.user.size() < 10 && pool.user.find_first_not_of("0123456789") == std::string::npos) {
    passwd* pw = ::getpwuid(static_cast<uid_t>(std::stoul(pool.user)));
    if (pw == nullptr) return Status::error("-u/--user: uid " + pool.user + " has no passwd entry");
    pool.user = pw->pw_name;
  }
  if (!pool.group.empty() && pool.group.size() < 10 &&
      pool.group.find_first_not_of("0123456789") == std::string::npos) {
    group* gr = ::getgrgid(static_cast<gid_t>(std::stoul(pool.group)));
    if (gr == nullptr) return Status::error("-g/--group: gid " + pool.group + " has no group entry");
    pool.group = gr->gr_name;
  }
  pool.timeout_seconds = o.timeout;
  pool.graceful_timeout_seconds = o.graceful_timeout;
  pool.boot_timeout_seconds = o.boot_timeout;
  pool.heartbeat = parse_heartbeat_mode(o.heartbeat).value_or(HeartbeatMode::kAuto);
  pool.max_request_age_seconds = o.max_request_age;
  pool.max_surge = o.max_surge;
  pool.max_unavailable = o.max_unavailable;
  if (Status r = apply_scaling_flags(o, pool); !r.ok()) return r;
  if (!o.app.empty()) {
    auto args = worker_args(o, c);
    if (!args.ok()) return args.status();
    pool.command = gworker_command(o.app, *args);
    if (pool.binds.empty()) pool.binds = default_app_binds();
  } else {
    pool.command = o.command;
  }
  c.pools.push_back(std::move(pool));
  auto where = [](const PoolConfig*, const std::string& key) { return flag_of(key); };
  s = finish_config(c, where);
  if (!s.ok()) return s;
  return c;
}

}  // namespace greenfork::arbiter::detail
