// arbiterd: parse the command line, open the listeners, run the Arbiter.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/arbiter.hpp"
#include "greenfork/arbiter/cli.hpp"
#include "greenfork/arbiter/hook_host.hpp"
#include "greenfork/arbiter/listener_set.hpp"
#include "greenfork/arbiter/master_hooks.hpp"
#include "greenfork/arbiter/pid_file.hpp"
#include "greenfork/arbiter/process_title.hpp"
#include "greenfork/arbiter/statsd_gauge.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/control_address.hpp"
#include "greenfork/error_log.hpp"
#include "greenfork/syslog_sink.hpp"
#include "greenfork/unique_fd.hpp"
#ifdef GF_HAVE_CONTROL_SERVER
#include "greenfork/arbiter/config_loader.hpp"
#include "greenfork/arbiter/control_server.hpp"
#endif

namespace {

using namespace greenfork;
using namespace greenfork::arbiter;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string absolute(const std::string& path, const std::string& cwd) {
  if (path.empty() || path.front() == '/') return path;
  return cwd + "/" + path;
}

std::string current_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) != nullptr ? buf : "";
}

std::string self_exe(const std::string& argv0, const std::string& cwd) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return absolute(argv0, cwd);
}

// Each pool's fds, names and canonical specs out of the one ListenerSet.
StatusOr<std::vector<PoolSockets>> pool_sockets(const Config& config, const ListenerSet& set) {
  std::vector<PoolSockets> out;
  for (const auto& pool : config.pools) {
    PoolSockets ps;
    for (const auto& bind : pool.binds) {
      const ListenerSet::Listener* l = set.find(bind);
      if (l == nullptr) return Status::error("pool " + pool.name + ": listener " + bind + " not open");
      ps.fds.push_back(l->fd());
      ps.names.push_back(l->fd_name);
      ps.specs.push_back(l->spec);
    }
    out.push_back(std::move(ps));
  }
  return out;
}

// Soft RLIMIT_NOFILE up to the hard one; returns a line for the log.
std::string raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return "";
  const rlim_t old = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (limit.rlim_max == RLIM_INFINITY) {
    // The kernel refuses an unlimited RLIMIT_NOFILE: its ceiling is nr_open.
    unsigned long nr_open = 0;
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
      if (std::fscanf(f, "%lu", &nr_open) != 1) nr_open = 0;
      std::fclose(f);
    }
    if (nr_open == 0 || nr_open <= old) return "";
    limit.rlim_cur = nr_open;
  }
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "file descriptor limit stays " + std::to_string(old) + ": " + std::strerror(errno);
  }
  return "file descriptor limit raised from " + std::to_string(old) + " to " + std::to_string(limit.rlim_cur);
}

// Gunicorn's -D (util.daemonize): fork, new session, fork again, so the
// master is no session leader and the shell gets its prompt back; stdin
// from /dev/null, and stdout/stderr too unless -R keeps them.
void daemonize(bool keep_stdio) {
  if (pid_t pid = ::fork(); pid != 0) ::_exit(pid < 0 ? 1 : 0);
  ::setsid();
  if (pid_t pid = ::fork(); pid != 0) ::_exit(pid < 0 ? 1 : 0);
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return;
  ::dup2(null.get(), 0);
  if (!keep_stdio) {
    ::dup2(null.get(), 1);
    ::dup2(null.get(), 2);
  }
  if (null.get() <= 2) (void)null.release();  // it is one of the standard fds now
}

// --capture-output: stdout and stderr into the error log file, for arbiterd
// and every worker it forks (they inherit fds 1 and 2). Again on USR1.
void capture_output(const Config& config) {
  if (!config.capture_output || config.error_logfile == "-") return;
  UniqueFd file(::open(config.error_logfile.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!file) {
    spdlog::error("--capture-output: {}", Status::from_errno(config.error_logfile).message());
    return;
  }
  ::dup2(file.get(), 1);
  ::dup2(file.get(), 2);
  if (file.get() <= 2) (void)file.release();  // it is one of the standard fds now
}

// HUP: arbiterd's error log set up again from the re-read file, as Gunicorn's
// reload sets its logging up again. Validated before anything changes; a
// syslog that cannot be reached puts the old setup back.
Status set_up_logging_again(const Config& fresh, const Config& old) {
  std::optional<LogFormat> format = parse_log_format(fresh.log_format);
  if (!format) return Status::error("log_format '" + fresh.log_format + "': expected text or json");
  if (fresh.syslog) {
    if (Status s = check_syslog(fresh.syslog_addr, fresh.syslog_facility); !s.ok()) return s;
  }
  if (Status s = setup_error_log("arbiterd", fresh.error_logfile, fresh.log_level, *format); !s.ok()) return s;
  if (fresh.syslog) {
    if (Status s = add_syslog({fresh.syslog_addr, fresh.syslog_facility, syslog_tag(fresh.syslog_prefix)});
        !s.ok()) {
      (void)setup_error_log("arbiterd", old.error_logfile, old.log_level,
                            parse_log_format(old.log_format).value_or(LogFormat::kText));
      if (old.syslog) (void)add_syslog({old.syslog_addr, old.syslog_facility, syslog_tag(old.syslog_prefix)});
      return s;
    }
  }
  capture_output(fresh);
  return {};
}

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> original_argv = ProcessTitle::init(argc, argv);
  const std::string start_cwd = current_dir();
  const std::string exe = self_exe(original_argv.empty() ? "arbiterd" : original_argv[0], start_cwd);
  // Read before anything consumes them: systemd's NOTIFY_SOCKET is ours,
  // not our workers' (they get arbiterd's own), and the upgrade hand-over.
  const std::string systemd_notify = env_or_empty(contract::kNotifySocket);
  ::unsetenv(contract::kNotifySocket);
  const pid_t upgrade_parent = static_cast<pid_t>(std::atol(env_or_empty(contract::kUpgradeParent).c_str()));
  const std::string upgrade_notify = env_or_empty(contract::kUpgradeNotify);
  ::unsetenv(contract::kUpgradeParent);
  ::unsetenv(contract::kUpgradeNotify);

  CliOutcome cli = parse_cli(argc, argv);
  if (!cli.run) return cli.exit_code;
  // Connections and workers' pipes all cost descriptors: use every one the
  // hard limit allows (the default soft limit, 1024, is select()'s).
  const std::string fd_limit = raise_fd_limit();
  Config config = std::move(cli.config);
  // A master re-executed by USR2 is already detached (Gunicorn's daemonize
  // also skips a re-exec): forking again would lose the old master's child.
  if (config.daemon && upgrade_parent == 0) daemonize(config.enable_stdio_inheritance);

  if (Status s = setup_error_log("arbiterd", config.error_logfile, config.log_level,
                                 parse_log_format(config.log_format).value_or(LogFormat::kText));
      !s.ok()) {
    std::cerr << "arbiterd: " << s.message() << "\n";
    return 1;
  }
  if (config.syslog) {
    if (Status s = add_syslog({config.syslog_addr, config.syslog_facility, syslog_tag(config.syslog_prefix)});
        !s.ok()) {
      return fail(s.message());
    }
  }
  capture_output(config);
  // Master-side server hooks: a hook host only when the file defines one.
  // on_starting runs before the listeners open, as in Gunicorn.
  asio::io_context io;
  std::unique_ptr<HookHost> hook_host;
  std::unique_ptr<MasterHooks> hooks;
  if (MasterHooks::wanted(config)) {
    HookHostOptions ho;
    ho.location = config.config_file;
    ho.chdir = config.chdir;
    if (!config.pools.empty()) ho.bound = Seconds(config.pools.front().timeout_seconds);
    auto host = HookHost::start(io, std::move(ho));
    if (!host.ok()) return fail(host.status().message());
    hook_host = std::move(*host);
    hooks = std::make_unique<MasterHooks>(*hook_host, config);
    if (Status s = hooks->starting(); !s.ok()) return fail(s.message());
  }
  std::vector<std::string> all_binds;
  for (const auto& pool : config.pools) {
    all_binds.insert(all_binds.end(), pool.binds.begin(), pool.binds.end());
  }
  StatusOr<ListenerSet> listeners = ListenerSet::open(all_binds, config.backlog, config.umask, config.reuse_port);
  if (!listeners.ok()) return fail(listeners.status().message());
  listeners->remove_files_when_destroyed();  // every return below closes and removes them
  if (!fd_limit.empty()) spdlog::info("{}", fd_limit);
  for (const auto& l : listeners->all()) spdlog::info("Listening at: {} (fd {})", l.spec, l.fd());
  auto sockets = pool_sockets(config, *listeners);
  if (!sockets.ok()) return fail(sockets.status().message());

  std::string control_path =
      absolute(config.control_socket.empty() ? default_control_socket() : config.control_socket, start_cwd);
  std::string pid_path = absolute(config.pid_file, start_cwd);
  if (!config.chdir.empty() && ::chdir(config.chdir.c_str()) != 0) {
    return fail(Status::from_errno("chdir " + config.chdir).message());
  }
  PidFile pid_file;
  if (!pid_path.empty()) {
    auto pf = PidFile::create(pid_path, upgrade_parent);
    if (!pf.ok()) {
      return fail(pf.status().message());
    }
    pid_file = std::move(*pf);
  }

  auto ops = make_posix_process_ops();
  ArbiterOptions options;
  options.config = config;
  options.sockets = std::move(*sockets);
  options.control_socket = control_path;
  std::vector<std::string> args = cli.args;
  if (!config.config_file.empty()) {
    options.reload_config = [args] { return config_from_args(args); };
  }
  // A reload's new pools and changed binds: listeners from the same set.
  options.open_listeners = [&listeners, config](const std::vector<std::string>& binds) -> StatusOr<PoolSockets> {
    std::vector<std::string> fresh;
    for (const auto& bind : binds) {
      if (listeners->find(bind) == nullptr) fresh.push_back(bind);
    }
    if (Status s = listeners->add(binds, config.backlog, config.umask); !s.ok()) return s;
    PoolSockets ps;
    for (const auto& bind : binds) {
      const ListenerSet::Listener* l = listeners->find(bind);
      if (l == nullptr) return Status::error("listener " + bind + " not open");
      if (std::find(fresh.begin(), fresh.end(), bind) != fresh.end()) {
        spdlog::info("Listening at: {} (fd {})", l->spec, l->fd());
      }
      ps.fds.push_back(l->fd());
      ps.names.push_back(l->fd_name);
      ps.specs.push_back(l->spec);
    }
    return ps;
  };
  options.close_listeners_except = [&listeners](const std::vector<std::string>& in_use) {
    for (const auto& l : listeners->all()) {
      if (std::find(in_use.begin(), in_use.end(), l.spec) == in_use.end()) {
        spdlog::info("Closing listener {} (fd {}): no pool uses it", l.spec, l.fd());
      }
    }
    listeners->close_except(in_use, /*unlink_unix_files=*/true);
  };
  // What the error log is set up with now: a HUP may change it.
  auto logging = std::make_shared<Config>(config);
  options.reopen_logs = [logging] {
    if (Status s = reopen_error_log(); !s.ok()) spdlog::error("{}", s.message());
    capture_output(*logging);
  };
  options.apply_logging = [logging](const Config& fresh) -> Status {
    if (Status s = set_up_logging_again(fresh, *logging); !s.ok()) return s;
    *logging = fresh;
    return {};
  };
  options.self_exe = exe;
  options.self_argv = original_argv;
  options.self_cwd = start_cwd;
  options.systemd_notify_socket = systemd_notify;
  options.upgrade_parent_notify = upgrade_notify;

#ifdef GF_HAVE_CONTROL_SERVER
  ControlServerOptions control;
  control.unix_path = control_path;
  control.takeover = upgrade_parent > 0;
  control.tcp_bind = config.control_bind;
  if (!config.control_token_file.empty()) {
    auto token = read_control_token(config.control_token_file);
    if (!token.ok()) {
      return fail("control token file: " + token.status().message());
    }
    control.token = std::move(*token);
  }
  std::vector<std::unique_ptr<ControlServer>> servers;
  ControlTarget* target = nullptr;
  AsioLoopExecutor executor(io);
  options.reclaim_control_socket = [&servers, &target, &executor, &pid_file, control, pid_path] {
    // The failed new master removed its pid file and control socket.
    if (!pid_path.empty()) {
      auto pf = PidFile::create(pid_path);
      if (pf.ok()) pid_file = std::move(*pf);
    }
    ControlServerOptions again = control;
    again.takeover = true;
    auto server = ControlServer::start(again, *target, executor);
    if (server.ok()) {
      servers.push_back(std::move(*server));
      spdlog::info("Control socket {} reclaimed", again.unix_path);
    } else {
      spdlog::error("reclaiming the control socket: {}", server.status().message());
    }
  };
#endif

  Arbiter arbiter(io, *ops, std::move(options));
#ifdef GF_HAVE_CONTROL_SERVER
  target = &arbiter;
  {
    auto server = ControlServer::start(control, arbiter, executor);
    if (!server.ok()) {
      return fail(server.status().message());
    }
    spdlog::info("Control socket: {}", control.unix_path);
    if (!control.tcp_bind.empty()) {
      spdlog::info("Control address: {} (TCP port {}, bearer token required)", control.tcp_bind,
                   (*server)->tcp_port());
    }
    servers.push_back(std::move(*server));
  }
#endif
  ProcessTitle::set("arbiterd: master" + (config.name.empty() ? "" : " [" + config.name + "]"));

  // Gunicorn's gunicorn.workers gauge, when it changes (after the event's
  // handler has updated the pools: posted).
  std::unique_ptr<StatsdGauge> statsd;
  if (!config.statsd_host.empty()) {
    auto gauge = StatsdGauge::open(config.statsd_host, config.statsd_prefix, config.dogstatsd_tags);
    if (!gauge.ok()) return fail(gauge.status().message());
    statsd = std::move(*gauge);
    arbiter.subscribe([&](const SupervisorEvent&) {
      asio::post(io, [&] {
        unsigned running = 0;
        for (const PoolSnapshot& p : arbiter.status().pools) running += p.running;
        statsd->workers(running);
      });
    });
  }
  uint64_t hook_feed = 0;
  if (hooks) {
    hook_feed = arbiter.subscribe([&hooks](const SupervisorEvent& e) { hooks->on_event(e); });
    hooks->running([&arbiter] { return arbiter.status(); });
  }

  ArbiterExit exit = arbiter.run();

  if (hooks) {
    arbiter.unsubscribe(hook_feed);
    hooks->exiting();
  }

#ifdef GF_HAVE_CONTROL_SERVER
  for (auto& s : servers) s->shutdown();
#endif
  listeners->close_all(!exit.handed_over);
  if (exit.handed_over) pid_file.release();
  spdlog::info("arbiterd exiting ({})", exit.code);
  if (!exit.reason.empty()) spdlog::critical("{}", exit.reason);  // the last line says why
  return exit.code;
}
