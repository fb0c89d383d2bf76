// arbiterd's flags, declared once with CLI11.
#include "cli_options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "greenfork/arbiter/settings.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/worker_settings.hpp"
#include "greenfork/worker/proxy/address_allow_list.hpp"

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
  std::string long_name;
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
    "  arbiterd [-c gunicorn.conf.py] [OPTIONS] APP   settings from a Gunicorn config file\n"
    "  arbiterd -c FILE.toml                     several pools from a TOML file\n"
    "Settings: the config file (default ./gunicorn.conf.py), then $GUNICORN_CMD_ARGS, then the\n"
    "command line; docs/gunicorn-settings.md lists every Gunicorn setting.";

// A setting's flags as the settings table declares them ("-w,--workers").
std::string flags(const char* name) {
  const settings::Setting* s = settings::by_name(name);
  return s != nullptr ? s->flags : std::string("--") + name;
}

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
  app.add_option(flags("config"), o.config_file, "gunicorn.conf.py, python:MODULE, or FILE.toml with [pools.NAME]");
  app.add_flag(flags("check_config"), o.check_config, "validate the configuration and exit");
  app.add_flag(flags("print_config"), o.print_config, "print the effective settings (name = value) and exit");
  app.add_flag(flags("daemon"), o.daemon, "detach from the terminal and run in the background");
  app.add_flag(flags("enable_stdio_inheritance"), o.stdio_inheritance, "with -D, keep stdout and stderr");
  app.add_flag(flags("capture_output"), o.capture_output, "workers' stdout/stderr into the --error-logfile file");
  app.add_flag(flags("reuse_port"), o.reuse_port, "set SO_REUSEPORT on the listening sockets");
  app.add_flag(flags("preload_app"), o.preload, "accepted, no effect: each gworker loads the app itself");
  app.add_option(flags("reload_engine"), o.reload_engine, "auto, poll or inotify")
      ->check(CLI::IsMember({"auto", "poll", "inotify"}));

  app.add_option(flags("workers"), o.workers, "worker processes (default 1 or $WEB_CONCURRENCY)")
                      ->check(CLI::Range(1u, 100000u));
  app.add_option(flags("bind"), o.binds, "HOST:PORT, [V6]:PORT, unix:/PATH or fd://N (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option(flags("backlog"), o.backlog, "listen backlog (2048)")->check(CLI::Range(1, 65535));
  app.add_option(flags("umask"), o.umask, "umask for unix socket files (octal, e.g. 007)");
  app.add_option(flags("pidfile"), o.pid_file, "write arbiterd's pid to FILE");
  app.add_option(flags("chdir"), o.chdir, "change to DIR before starting workers");
  app.add_option(flags("raw_env"), o.env, "K=V in the workers' environment (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option(flags("user"), o.user, "run workers as USER (when root)");
  app.add_flag(flags("initgroups"), o.initgroups, "with --user, workers get all of USER's groups too");
  app.add_option(flags("group"), o.group, "run workers as GROUP (when root)");
  app.add_option(flags("graceful_timeout"), o.graceful_timeout, "seconds a stopping worker gets (30)")
      ->check(CLI::NonNegativeNumber);
  app.add_option(flags("timeout"), o.timeout, "heartbeat silence that means hung, seconds (30)")
      ->check(CLI::PositiveNumber);
  app.add_option(flags("boot_timeout"), o.boot_timeout, "seconds from spawn to READY (60)")
      ->check(CLI::PositiveNumber);
  app.add_option(flags("heartbeat"), o.heartbeat, "auto, grpc, notify or none (auto)")
      ->check(CLI::IsMember({"auto", "grpc", "notify", "none"}));
  app.add_option(flags("max_request_age"), o.max_request_age, "kill a worker whose request runs longer, seconds (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option(flags("max_surge"), o.max_surge, "reload: extra workers at once (1)");
  app.add_option(flags("max_unavailable"), o.max_unavailable, "reload: workers below the count at once (0)");
  app.add_option(flags("max_worker_memory"), o.max_worker_memory,
                 "replace a worker whose RSS passes SIZE (512M, 1G; successor READY first)");
  app.add_option(flags("autoscale"), o.autoscale, "MIN:MAX: scale the pool with its load (1:8)");
  app.add_option(flags("autoscale_cooldown"), o.autoscale_cooldown,
                 "seconds of low use before autoscale stops a worker (30)");
  app.add_option(flags("loglevel"), o.log_level, "debug, info, warning, error, critical (info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error", "critical"}, CLI::ignore_case));
  app.add_option(flags("errorlog"), o.error_logfile, "error log FILE, '-' for stderr (default)");
  app.add_flag(flags("syslog"), o.syslog, "send the error logs to syslog too");
  app.add_option(flags("syslog_addr"), o.syslog_addr, "udp://HOST:PORT, tcp://HOST:PORT or unix://PATH[#dgram]");
  app.add_option(flags("syslog_prefix"), o.syslog_prefix, "syslog tag gunicorn.PREFIX.error (default: -n, else APP)");
  app.add_option(flags("syslog_facility"), o.syslog_facility, "syslog facility (user)");
  app.add_flag(flags("disable_redirect_access_to_syslog"), o.no_access_to_syslog,
               "accepted: access lines never go to syslog");
  app.add_option(flags("paste"), o.paste, "a PasteDeploy ini FILE[#name] whose app gworker runs (instead of APP)");
  app.add_option(flags("raw_paste_global_conf"), o.paste_global, "K=V for the ini's global_conf (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option(flags("statsd_host"), o.statsd_host, "HOST:PORT or unix:PATH of statsd (gunicorn.workers gauge)");
  app.add_option(flags("statsd_prefix"), o.statsd_prefix, "prefix of the statsd metric names");
  app.add_option(flags("dogstatsd_tags"), o.dogstatsd_tags, "dogstatsd tags: tag1:v1,tag2");
  app.add_option(flags("log_format"), o.log_format, "error log lines: text (Gunicorn's) or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option(flags("proc_name"), o.name, "process title: arbiterd: master [NAME]");
  app.add_option(flags("control_socket"), o.control_socket, "unix path of the gRPC control socket");
  app.add_option(flags("control_bind"), o.control_bind, "HOST:PORT for a TCP control socket (needs a token)");
  app.add_option(flags("control_token_file"), o.control_token_file, "bearer token for --control-bind");
  app.add_option(flags("metrics_bind"), o.metrics_bind,
                 "HOST:PORT or unix:PATH serving /metrics, /healthz, /readyz and a status page");

  // gworker's flags: names, kind and range from the settings table.
  std::vector<std::unique_ptr<WorkerFlag>> worker_flags;
  std::vector<std::unique_ptr<CLI::Validator>> ranges;
  auto worker = [&](const char* name, const char* help, const CLI::Validator* check) {
    const settings::Setting& s = *settings::by_name(name);
    const bool value = s.type != settings::Type::kBool;
    worker_flags.push_back(std::make_unique<WorkerFlag>(
        WorkerFlag{s.flags, settings::long_flag(s), help, value, check, {}, false, nullptr}));
    WorkerFlag& f = *worker_flags.back();
    std::string text = std::string("gworker: ") + help;
    if (value) {
      f.option = app.add_option(f.names, f.value, text);
      if (check != nullptr) f.option->check(*check);
      if (s.range != nullptr) {
        ranges.push_back(std::make_unique<CLI::Validator>(worker_range(*s.range)));
        f.option->check(*ranges.back());
      }
    } else {
      f.option = app.add_flag(f.names, f.on, text);
    }
    f.option->group("gworker options (with APP)");
  };
  const CLI::Validator worker_class = CLI::IsMember(worker_settings::choices(worker_settings::kWorkerClasses));
  const CLI::Validator proxy_protocol = CLI::IsMember(worker_settings::choices(worker_settings::kProxyProtocols));
  const CLI::Validator asgi_loop = CLI::IsMember(worker_settings::choices(worker_settings::kAsgiLoops));
  const CLI::Validator lifespan = CLI::IsMember(worker_settings::choices(worker_settings::kLifespans));
  worker("worker_class", "sync, gthread, asgi (or uvicorn.workers.UvicornWorker), gevent, eventlet, tornado or aiohttp", &worker_class);
  worker("asgi_loop", "-k asgi's event loop: auto, asyncio or uvloop", &asgi_loop);
  worker("asgi_lifespan", "-k asgi's lifespan protocol: auto, on or off", &lifespan);
  worker("root_path", "-k asgi: the scope's root_path", nullptr);
  const CLI::Validator boolean = CLI::IsMember(worker_settings::choices(worker_settings::kBooleans));
  worker("ws_max_size", "-k asgi: largest WebSocket message in bytes (16 MiB); larger: close 1009", nullptr);
  worker("ws_ping_interval", "-k asgi: seconds between WebSocket keepalive pings (20; 0: none)", nullptr);
  worker("ws_ping_timeout", "-k asgi: seconds a WebSocket pong may take (20)", nullptr);
  worker("ws_per_message_deflate", "-k asgi: permessage-deflate when the client offers it (true)", &boolean);
  worker("threads", "app threads per worker", nullptr);
  worker("keepalive", "seconds an idle keep-alive connection stays", nullptr);
  worker("max_requests", "restart a worker after N requests", nullptr);
  worker("max_requests_jitter", "random extra to --max-requests", nullptr);
  worker("accesslog", "access log FILE ('-': stdout)", nullptr);
  worker("access_log_format", "Gunicorn access log format", nullptr);
  worker("pythonpath", "comma-separated dirs added to sys.path", nullptr);
  // The address lists gworker checks at start, checked here too, so that
  // --check-config (and a reload's config) reports a bad entry up front.
  const CLI::Validator allow_list([](std::string& value) {
    std::vector<std::string> entries;
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = std::min(value.find(',', start), value.size());
      std::string item = value.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (!item.empty()) entries.push_back(std::move(item));
      start = comma + 1;
    }
    greenfork::worker::proxy::AddressAllowList list;
    std::string error;
    return greenfork::worker::proxy::AddressAllowList::parse(entries, list, error) ? std::string() : error;
  }, "ADDRESSES");
  worker("forwarded_allow_ips", "proxies trusted for X-Forwarded-* (addresses, CIDR ranges, '*')", &allow_list);
  worker("proxy_protocol", "PROXY protocol header first: off, v1, v2 or auto (the flag alone: auto)", &proxy_protocol);
  worker_flags.back()->option->expected(0, 1)->default_str("auto");  // Gunicorn's nargs='?', const 'auto'
  worker("proxy_allow_ips", "peers allowed to send a PROXY header (addresses, CIDR ranges, '*'; 127.0.0.1,::1)", &allow_list);
  const CLI::Validator protocol = CLI::IsMember(worker_settings::choices(worker_settings::kProtocols));
  worker("protocol", "what the listeners speak: http, or uwsgi (nginx's uwsgi_pass)", &protocol);
  worker("uwsgi_allow_ips", "with --protocol uwsgi, peers allowed to send requests (addresses, CIDR ranges, '*'; 127.0.0.1,::1)", &allow_list);
  const CLI::Validator http_protocols([](std::string& value) {
    worker_settings::HttpProtocols parsed;
    std::string why = worker_settings::parse_http_protocols(value, parsed);
    const std::string prefix = "--http-protocols: ";  // CLI11 names the option itself
    return why.rfind(prefix, 0) == 0 ? why.substr(prefix.size()) : why;
  }, "h1,h2");
  worker("http_protocols", "HTTP versions: a comma list of h1, h2 (h1 plain, h1,h2 over TLS)", &http_protocols);
  worker("certfile", "PEM certificate (chain): every listener serves TLS", nullptr);
  worker("keyfile", "PEM private key (default: in --certfile)", nullptr);
  worker("ca_certs", "PEM CAs that client certificates are verified against", nullptr);
  worker("cert_reqs", "client certificates: 0/none, 1/optional, 2/required (0)", nullptr);
  worker("ciphers", "OpenSSL cipher list for TLS 1.2", nullptr);
  worker("ssl_version", "TLS/TLS_SERVER (1.2 and up), TLSv1_2 or TLSv1_3", nullptr);
  worker("do_handshake_on_connect", "accepted: the handshake always runs at accept", nullptr);
  worker("suppress_ragged_eofs", "a client's close without close_notify is an EOF (always on)", nullptr);
  worker("limit_request_line", "max request line bytes (4094)", nullptr);
  worker("limit_request_fields", "max header fields (100)", nullptr);
  worker("limit_request_field_size", "max header field bytes (8190)", nullptr);
  worker("worker_connections", "max connections per worker", nullptr);
  worker("header_timeout", "seconds to receive a whole request head (10)", nullptr);
  worker("body_timeout", "idle seconds allowed while reading a body (30)", nullptr);
  worker("write_timeout", "idle seconds allowed while writing (30)", nullptr);
  worker("no_request_buffering", "hand requests to the app before their body is read", nullptr);
  worker("body_buffer_size", "request body bytes kept in memory before a temporary file (1048576)", nullptr);
  worker("worker_tmp_dir", "directory for request body temporary files ($TMPDIR or /tmp)", nullptr);
  worker("reload", "restart workers when app source changes (development)", nullptr);
  worker("logconfig", "Python logging config file (fileConfig ini) applied in each gworker", nullptr);
  worker("logconfig_json", "Python logging dictConfig JSON file applied in each gworker", nullptr);
  // Repeatable (one value per occurrence, each forwarded).
  std::vector<std::string> reload_extra_files;
  CLI::Option* extra = app.add_option(flags("reload_extra_files"), reload_extra_files,
                                      "gworker: with --reload, also watch these files (globs); repeatable")
                           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                           ->allow_extra_args(false)
                           ->group("gworker options (with APP)");

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
  if (extra->count() > 0) o.worker_flags_given.push_back("--reload-extra-file");
  for (const std::string& pattern : reload_extra_files) o.worker_args.insert(o.worker_args.end(), {"--reload-extra-file", pattern});
  for (const auto& f : worker_flags) {
    if (f->option->count() == 0) continue;
    o.worker_flags_given.push_back(f->long_name);
    o.worker_args.push_back(f->long_name);
    if (f->takes_value) o.worker_args.push_back(f->value);
  }
  return o;
}

}  // namespace greenfork::arbiter::detail
