// arbiterd's flags, declared once with CLI11.
#include "cli_options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "greenfork/contract.hpp"
#include "greenfork/worker_settings.hpp"

namespace greenfork::arbiter::detail {
namespace {

const CLI::Validator kWholeNumber(
    [](std::string& s) -> std::string {
      bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      return ok ? std::string() : "'" + s + "' is not a whole number";
    },
    "INT");

// gworker's range for a numeric flag, checked here so that a bad value stops
// arbiterd at start (exit 2) instead of every worker it forks.
CLI::Validator worker_range(const worker_settings::NumericRange& r) {
  return CLI::Validator([r](std::string& s) { return worker_settings::out_of_range(r, s); }, "NUMBER");
}

// A flag arbiterd forwards to gworker. value empty: a switch (--reload).
struct WorkerFlag {
  const char* names;
  const char* long_name;
  const char* help;
  bool takes_value;
  const CLI::Validator* check;
  std::string value;
  bool on = false;
  CLI::Option* option = nullptr;
};

const char* const kDescription =
    "arbiterd: a pre-fork supervisor for any worker executable (Gunicorn's arbiter).\n"
    "  arbiterd [OPTIONS] -- COMMAND [ARGS...]   run COMMAND in -w copies on the -b sockets\n"
    "  arbiterd [OPTIONS] APP                    run gworker APP (module:variable), Gunicorn-style\n"
    "  arbiterd -c FILE.toml                     several pools from a TOML file";

}  // namespace

bool CliOptions::was_given(const std::string& long_name) const {
  return std::find(given.begin(), given.end(), long_name) != given.end();
}

StatusOr<CliOptions> parse_cli_options(const std::vector<std::string>& all_args) {
  CliOptions o;
  std::vector<std::string> args;
  auto dashdash = std::find(all_args.begin(), all_args.end(), "--");
  args.assign(all_args.begin(), dashdash);
  if (dashdash != all_args.end()) {
    o.command.assign(dashdash + 1, all_args.end());
    if (o.command.empty()) return Status::error("'--' must be followed by a COMMAND");
  }
  if (const char* wc = std::getenv(contract::kWebConcurrency)) {
    std::string text = wc;
    std::string copy = text;
    if (!kWholeNumber(copy).empty() || text.size() > 6 || std::stoul(text) == 0) {
      return Status::error(std::string(contract::kWebConcurrency) + "='" + text +
                           "' is not a positive whole number");
    }
    o.workers = static_cast<unsigned>(std::stoul(text));
  }

  CLI::App app(kDescription, "arbiterd");
  // Gunicorn's grammar: each occurrence of an option takes exactly one value
  // (`-b A -b B APP`), so the APP after a repeatable option stays the
  // positional; a repeated single-value option keeps its last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", "arbiterd (greenfork) 0.1.0");
  app.get_formatter()->column_width(34);

  app.add_option("APP", o.app, "WSGI app for gworker, e.g. myproject.wsgi:application");
  app.add_option("-c,--config", o.config_file, "TOML config file with [arbiter] and [pools.NAME]");
  app.add_flag("--check-config", o.check_config, "validate the configuration and exit");

  app.add_option("-w,--workers", o.workers, "worker processes (default 1 or $WEB_CONCURRENCY)")
                      ->check(CLI::Range(1u, 100000u));
  app.add_option("-b,--bind", o.binds, "HOST:PORT, [V6]:PORT, unix:/PATH or fd://N (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("--backlog", o.backlog, "listen backlog (2048)")->check(CLI::Range(1, 65535));
  app.add_option("--umask", o.umask, "umask for unix socket files (octal, e.g. 007)");
  app.add_option("--pid", o.pid_file, "write arbiterd's pid to FILE");
  app.add_option("--chdir", o.chdir, "change to DIR before starting workers");
  app.add_option("-e,--env", o.env, "K=V in the workers' environment (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("-u,--user", o.user, "run workers as USER (when root)");
  app.add_option("-g,--group", o.group, "run workers as GROUP (when root)");
  app.add_option("--graceful-timeout", o.graceful_timeout, "seconds a stopping worker gets (30)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-t,--timeout", o.timeout, "heartbeat silence that means hung, seconds (30)")
      ->check(CLI::PositiveNumber);
  app.add_option("--boot-timeout", o.boot_timeout, "seconds from spawn to READY (60)")
      ->check(CLI::PositiveNumber);
  app.add_option("--heartbeat", o.heartbeat, "auto, grpc, notify or none (auto)")
      ->check(CLI::IsMember({"auto", "grpc", "notify", "none"}));
  app.add_option("--max-request-age", o.max_request_age, "kill a worker whose request runs longer, seconds (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-surge", o.max_surge, "reload: extra workers at once (1)");
  app.add_option("--max-unavailable", o.max_unavailable, "reload: workers below the count at once (0)");
  app.add_option("--log-level", o.log_level, "debug, info, warning, error, critical (info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error", "critical"}, CLI::ignore_case));
  app.add_option("--error-logfile", o.error_logfile, "error log FILE, '-' for stderr (default)");
  app.add_option("-n,--name", o.name, "process title: arbiterd: master [NAME]");
  app.add_option("--control-socket", o.control_socket, "unix path of the gRPC control socket");
  app.add_option("--control-bind", o.control_bind, "HOST:PORT for a TCP control socket (needs a token)");
  app.add_option("--control-token-file", o.control_token_file, "bearer token for --control-bind");

  std::vector<std::unique_ptr<WorkerFlag>> flags;
  auto worker = [&](const char* names, const char* long_name, const char* help, bool value,
                    const CLI::Validator* check) {
    flags.push_back(std::make_unique<WorkerFlag>(WorkerFlag{names, long_name, help, value, check, {}, false, nullptr}));
    WorkerFlag& f = *flags.back();
    std::string text = std::string("gworker: ") + help;
    if (value) {
      f.option = app.add_option(names, f.value, text);
      if (check != nullptr) f.option->check(*check);
    } else {
      f.option = app.add_flag(names, f.on, text);
    }
    f.option->group("gworker options (with APP)");
  };
  namespace ws = worker_settings;
  const CLI::Validator worker_class = CLI::IsMember(ws::choices(ws::kWorkerClasses));
  const CLI::Validator proxy_protocol = CLI::IsMember(ws::choices(ws::kProxyProtocols));
  const CLI::Validator threads = worker_range(ws::kThreads), keep_alive = worker_range(ws::kKeepAlive),
                       max_requests = worker_range(ws::kMaxRequests),
                       jitter = worker_range(ws::kMaxRequestsJitter),
                       request_line = worker_range(ws::kLimitRequestLine),
                       request_fields = worker_range(ws::kLimitRequestFields),
                       field_size = worker_range(ws::kLimitRequestFieldSize),
                       connections = worker_range(ws::kWorkerConnections),
                       header_timeout = worker_range(ws::kHeaderTimeout),
                       body_timeout = worker_range(ws::kBodyTimeout),
                       write_timeout = worker_range(ws::kWriteTimeout),
                       body_buffer = worker_range(ws::kBodyBufferSize);
  worker("-k,--worker-class", "--worker-class", "sync or gthread", true, &worker_class);
  worker("--threads", "--threads", "app threads per worker", true, &threads);
  worker("--keep-alive", "--keep-alive", "seconds an idle keep-alive connection stays", true, &keep_alive);
  worker("--max-requests", "--max-requests", "restart a worker after N requests", true, &max_requests);
  worker("--max-requests-jitter", "--max-requests-jitter", "random extra to --max-requests", true, &jitter);
  worker("--access-logfile", "--access-logfile", "access log FILE ('-': stdout)", true, nullptr);
  worker("--access-logformat", "--access-logformat", "Gunicorn access log format", true, nullptr);
  worker("--pythonpath", "--pythonpath", "comma-separated dirs added to sys.path", true, nullptr);
  worker("--forwarded-allow-ips", "--forwarded-allow-ips", "proxies trusted for X-Forwarded-* (addresses, CIDR ranges, '*')", true, nullptr);
  worker("--proxy-protocol", "--proxy-protocol", "PROXY protocol header first: off, v1, v2 or auto (the flag alone: auto)", true, &proxy_protocol);
  flags.back()->option->expected(0, 1)->default_str("auto");  // Gunicorn's nargs='?', const 'auto'
  worker("--proxy-allow-from", "--proxy-allow-from", "peers allowed to send a PROXY header (addresses, CIDR ranges, '*'; 127.0.0.1,::1)", true, nullptr);
  worker("--limit-request-line", "--limit-request-line", "max request line bytes (4094)", true, &request_line);
  worker("--limit-request-fields", "--limit-request-fields", "max header fields (100)", true, &request_fields);
  worker("--limit-request-field_size,--limit-request-field-size", "--limit-request-field_size", "max header field bytes (8190)", true, &field_size);
  worker("--worker-connections", "--worker-connections", "max connections per worker", true, &connections);
  worker("--header-timeout", "--header-timeout", "seconds to receive a whole request head (10)", true, &header_timeout);
  worker("--body-timeout", "--body-timeout", "idle seconds allowed while reading a body (30)", true, &body_timeout);
  worker("--write-timeout", "--write-timeout", "idle seconds allowed while writing (30)", true, &write_timeout);
  worker("--no-request-buffering", "--no-request-buffering", "hand requests to the app before their body is read", false, nullptr);
  worker("--body-buffer-size", "--body-buffer-size", "request body bytes kept in memory before a temporary file (1048576)", true, &body_buffer);
  worker("--worker-tmp-dir", "--worker-tmp-dir", "directory for request body temporary files", true, nullptr);
  worker("--reload", "--reload", "restart workers when app source changes (development)", false, nullptr);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    o.action = CliOptions::Action::kHelp;
    o.help_text = app.help();
    return o;
  } catch (const CLI::CallForAllHelp&) {
    o.action = CliOptions::Action::kHelp;
    o.help_text = app.help();
    return o;
  } catch (const CLI::CallForVersion&) {
    o.action = CliOptions::Action::kVersion;
    return o;
  } catch (const CLI::ExtrasError& e) {
    return Status::error(std::string(e.what()) +
                         " (to run a program, put it after '--': arbiterd [OPTIONS] -- COMMAND ARGS...)");
  } catch (const CLI::ParseError& e) {
    return Status::error(e.what());
  }

  for (CLI::Option* opt : app.get_options()) {
    if (opt->count() > 0 && !opt->get_lnames().empty()) o.given.push_back("--" + opt->get_lnames().front());
  }
  for (const auto& f : flags) {
    if (f->option->count() == 0) continue;
    o.worker_flags_given.push_back(f->long_name);
    o.worker_args.push_back(f->long_name);
    if (f->takes_value) o.worker_args.push_back(f->value);
  }
  return o;
}

}  // namespace greenfork::arbiter::detail
