// From parsed flags to a Config: one pool from flags (a COMMAND or the
// gworker one-liner), or a TOML file with the flags overriding [arbiter].
#include "greenfork/arbiter/cli.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "cli_extras.hpp"
#include "cli_layers.hpp"
#include "cli_options.hpp"
#include "config_file.hpp"
#include "tls_check.hpp"
#include "greenfork/arbiter/config_loader.hpp"
#include "greenfork/arbiter/settings.hpp"
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
  const std::string cwd = detail::current_directory();
  if (o.was_given("--name")) c.name = o.name;
  if (o.was_given("--pid")) c.pid_file = detail::absolute_path(cwd, o.pid_file);
  if (o.was_given("--chdir")) c.chdir = detail::absolute_path(cwd, o.chdir);
  if (o.was_given("--error-logfile")) {
    c.error_logfile = o.error_logfile == "-" ? "-" : detail::absolute_path(cwd, o.error_logfile);
  }
  if (o.was_given("--log-level")) c.log_level = lower(o.log_level);
  if (Status s = detail::apply_logging_flags(o, c); !s.ok()) return s;
  if (o.was_given("--backlog")) c.backlog = o.backlog;
  if (o.was_given("--daemon")) c.daemon = o.daemon;
  if (o.was_given("--enable-stdio-inheritance")) c.enable_stdio_inheritance = o.stdio_inheritance;
  if (o.was_given("--capture-output")) c.capture_output = o.capture_output;
  if (o.was_given("--reuse-port")) c.reuse_port = o.reuse_port;
  if (o.was_given("--umask")) {
    auto m = detail::parse_umask(o.umask);
    if (!m.ok()) return Status::error("--umask: " + m.status().message());
    c.umask = *m;
  }
  if (o.was_given("--control-socket")) c.control_socket = detail::absolute_path(cwd, o.control_socket);
  if (o.was_given("--control-bind")) c.control_bind = o.control_bind;
  if (o.was_given("--metrics-bind")) c.metrics_bind = o.metrics_bind;
  if (o.was_given("--control-token-file")) {
    c.control_token_file = detail::absolute_path(cwd, o.control_token_file);
  }
  return {};
}

// --max-worker-memory, --autoscale, --autoscale-cooldown onto the one pool.
Status apply_scaling_flags(const CliOptions& o, PoolConfig& pool) {
  if (o.was_given("--max-worker-memory")) {
    auto bytes = detail::parse_size(o.max_worker_memory);
    if (!bytes.ok()) return Status::error("--max-worker-memory: " + bytes.status().message());
    pool.max_worker_memory_bytes = *bytes;
  }
  if (o.was_given("--autoscale")) {
    auto range = detail::parse_autoscale_range(o.autoscale);
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
    if (Status tls = detail::check_tls_worker_args(args, detail::current_directory()); !tls.ok()) return tls;
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
      auto absolute = [&](const std::string& p) {
        return p.rfind("python:", 0) == 0 ? p : detail::absolute_path(cwd, p);
      };
      if (args[i] == f && i + 1 < args.size()) {
        args[i + 1] = absolute(args[i + 1]);
        ++i;
        break;
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        args[i] = f + "=" + absolute(args[i].substr(f.size() + 1));
        break;
      }
    }
  }
  return args;
}

bool wants_help_or_version(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--version") return true;
  }
  return false;
}

bool is_toml(const std::string& location) {
  return location.size() >= 5 && location.compare(location.size() - 5, 5, ".toml") == 0;
}

// The settings of the three layers (cli_layers.hpp), as arguments for the
// one CLI11 parser.
struct Resolved {
  std::vector<std::string> args;
  std::string python_file;    // settings came from this gunicorn.conf.py
  bool default_file = false;  // ./gunicorn.conf.py, read because no -c
  detail::Layer merged;
  // Setting name -> where its value came from, when not the command line.
  std::map<std::string, std::string> origin;
};

// A value the one parser refuses, named with the file or GUNICORN_CMD_ARGS
// it came from: "gunicorn.conf.py: --workers: Value 0 not in range ...".
Status with_origin(const Resolved& r, const Status& s) {
  for (const auto& [name, where] : r.origin) {
    const settings::Setting* setting = settings::by_name(name);
    const std::string flag = setting != nullptr ? settings::long_flag(*setting) : "";
    if (!flag.empty() && s.message().find(flag) != std::string::npos) return Status::error(where + ": " + s.message());
  }
  return s;
}

StatusOr<Resolved> resolve(const std::vector<std::string>& args) {
  Resolved r;
  if (wants_help_or_version(args)) {
    r.args = args;
    return r;
  }
  auto cmd = detail::layer_from_args(args, "");
  if (!cmd.ok()) return cmd.status();
  detail::Layer env;
  if (const char* text = std::getenv("GUNICORN_CMD_ARGS"); text != nullptr) {
    auto words = detail::shell_split(text);
    if (!words.ok()) return words.status();
    auto layer = detail::layer_from_args(*words, "GUNICORN_CMD_ARGS");
    if (!layer.ok()) return layer.status();
    if (!layer->unknown.empty()) {
      return Status::error("GUNICORN_CMD_ARGS: unrecognized option " + layer->unknown.front());
    }
    // Gunicorn reads only settings from it: an APP there is ignored.
    env = std::move(*layer);
    env.positionals.clear();
    env.command.clear();
    env.has_dashdash = false;
  }
  std::string location;
  if (auto it = cmd->values.find("config"); it != cmd->values.end()) {
    location = it->second.back();
  } else if (auto e = env.values.find("config"); e != env.values.end()) {
    location = e->second.back();
  } else if (std::error_code ec; std::filesystem::is_regular_file("gunicorn.conf.py", ec)) {
    location = "gunicorn.conf.py";
    r.default_file = true;
  }
  detail::Layer merged;
  if (!location.empty() && !is_toml(location)) {
    auto globals = detail::evaluate_python_config(location);
    if (!globals.ok()) return globals.status();
    auto file = detail::layer_from_python(*globals, location);
    if (!file.ok()) return file.status();
    merged = std::move(*file);
    r.python_file = location;
  }
  for (const auto& entry : merged.values) r.origin[entry.first] = location;
  for (const auto& entry : env.values) r.origin[entry.first] = "GUNICORN_CMD_ARGS";
  for (const auto& entry : cmd->values) r.origin.erase(entry.first);
  detail::override_with(merged, env);
  detail::override_with(merged, *cmd);
  merged.positionals = cmd->positionals;
  merged.command = cmd->command;
  merged.has_dashdash = cmd->has_dashdash;
  if (!r.python_file.empty()) {
    // The file's wsgi_app is the APP when the command line gives none.
    auto app = merged.values.find("wsgi_app");
    if (merged.positionals.empty() && !merged.has_dashdash && app != merged.values.end()) {
      merged.positionals = app->second;
    }
    r.args = detail::to_args(merged, {"config"});
  } else {
    if (!location.empty()) merged.values["config"] = {location};
    r.args = detail::to_args(merged);
  }
  r.merged = std::move(merged);
  return r;
}

// Whether this build's gworker reads the config file itself (`gworker
// --config FILE`): the settings table says so, by accepting what only the
// file can carry to it, the worker-side hooks (post_fork ...) or
// logconfig_dict.
bool worker_reads_config_file() {
  for (const settings::Setting& s : settings::all()) {
    const bool from_file_only = s.type == settings::Type::kCallable || std::string(s.name) == "logconfig_dict";
    if (from_file_only && s.process == settings::Process::kWorker && s.status != settings::Status::kRefused) {
      return true;
    }
  }
  return false;
}

StatusOr<Config> config_of(const Resolved& r, const CliOptions& given) {
  auto pasted = detail::with_paste(given);
  if (!pasted.ok()) return pasted.status();
  const CliOptions& o = *pasted;
  if (!o.paste.empty() && !o.config_file.empty() && r.python_file.empty()) {
    return Status::error("--paste cannot be used with -c " + o.config_file + " (a TOML file names its pools' apps)");
  }
  if (r.python_file.empty()) return o.config_file.empty() ? config_from_flags(o) : config_from_file(o);
  auto c = config_from_flags(o);
  if (!c.ok()) return c;
  c->config_file = r.python_file.rfind("python:", 0) == 0
                       ? r.python_file
                       : detail::absolute_path(detail::current_directory(), r.python_file);
  c->hooks = r.merged.hooks;
  c->given_settings = r.merged.values;
  // gworker runs the worker-side hooks (and logconfig_dict) from the same
  // file (`gworker --config FILE`), once the settings table says it can.
  if (!o.app.empty() && worker_reads_config_file()) {
    for (PoolConfig& pool : c->pools) pool.command.insert(pool.command.end(), {"--config", c->config_file});
  }
  return c;
}

}  // namespace

StatusOr<Config> config_from_args(const std::vector<std::string>& args) {
  auto r = resolve(args);
  if (!r.ok()) return r.status();
  auto o = detail::parse_cli_options(r->args);
  if (!o.ok()) return with_origin(*r, o.status());
  if (o->action != CliOptions::Action::kRun) return Status::error("no configuration in --help/--version");
  return config_of(*r, *o);
}

CliOutcome parse_cli(int argc, char** argv) {
  CliOutcome out;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto fail = [&out](const std::string& message) {
    std::cerr << "arbiterd: " << message << "\n";
    out.exit_code = 2;
    return out;
  };
  auto r = resolve(args);
  if (!r.ok()) return fail(r.status().message());
  auto o = detail::parse_cli_options(r->args);
  if (!o.ok()) return fail(with_origin(*r, o.status()).message());
  if (o->action == CliOptions::Action::kHelp) {
    std::cout << o->help_text;
    return out;
  }
  if (o->action == CliOptions::Action::kVersion) {
    std::cout << kVersionText << "\n";
    return out;
  }
  auto config = config_of(*r, *o);
  if (!config.ok()) return fail(config.status().message());
  if (o->print_config) {
    std::cout << (o->config_file.empty() ? detail::print_config_text(r->merged)
                                         : detail::print_toml_config(*config));
    return out;
  }
  if (o->check_config) {
    std::size_t n = config->pools.size();
    std::cout << "config OK: " << n << (n == 1 ? " pool" : " pools") << "\n";
    return out;
  }
  out.run = true;
  out.config = std::move(*config);
  if (r->default_file) args.insert(args.begin(), {"-c", "gunicorn.conf.py"});
  out.args = absolute_args(std::move(args));
  return out;
}

}  // namespace greenfork::arbiter
