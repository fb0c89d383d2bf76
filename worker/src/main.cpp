// gworker: parse flags, take the sockets, load the app, tell the supervisor
// we are ready, serve until told to stop. Exit codes: 2 bad flags, 3 boot
// failure (sockets, logs, chdir, readiness), 4 the app failed to load.
#include <sys/stat.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>

#include "engine/access_log.hpp"
#include "engine/exchange.hpp"
#include "engine/server.hpp"
#include "engine/signal_thread.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/error_log.hpp"
#include "greenfork/syslog_sink.hpp"
#include "greenfork/sd_notify.hpp"
#include "greenfork/worker/app.hpp"
#include "listeners.hpp"
#include "options.hpp"
#include "python_worker.hpp"
#include "readiness.hpp"
#include "statsd.hpp"
#ifdef GF_HAVE_FRAMEWORKS
#include "framework_worker.hpp"
#endif

namespace gw = greenfork::worker;

namespace {

// Bad command-line arguments (CLI11's usage errors).
constexpr int kExitUsageError = 2;

// Says why over the notify socket (arbiterd logs the last STATUS= a worker
// sent when it fails its pool), then on stderr and in the error log.
int fail(int code, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  (void)greenfork::sd_notify("STATUS=" + line);
  std::cerr << "gworker: " << message << std::endl;
  if (spdlog::default_logger_raw() != nullptr) {
    spdlog::critical("{}", message);
    spdlog::default_logger()->flush();
  }
  return code;
}

// What the app and the engine may ask of the process.
class Host final : public gw::WorkerHost {
 public:
  void request_restart(const std::string& reason) override {
    if (server != nullptr) server->request_stop("restart: " + reason);
  }
  void log_error(std::string_view message) override { spdlog::error("{}", message); }
  gw::Server* server = nullptr;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::chrono::milliseconds heartbeat_interval(const gw::Options& o) {
  if (const char* text = std::getenv(greenfork::contract::kHeartbeatInterval)) {
    const double s = std::atof(text);
    if (s > 0) return millis(s);
  }
  return millis(o.timeout > 0 ? std::max(0.5, o.timeout / 2) : 1.0);
}

}  // namespace

int main(int argc, char** argv) {
  gw::Options o;
  std::string usage_error;
  if (const int rc = gw::parse_options(argc, argv, o, usage_error); rc >= 0) {
    if (rc != 0) (void)fail(kExitUsageError, usage_error);
    return rc == 0 ? 0 : kExitUsageError;
  }
  std::signal(SIGPIPE, SIG_IGN);

  for (const std::string& kv : o.env) {
    const size_t eq = kv.find('=');
    setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }
  if (greenfork::Status s = greenfork::setup_error_log(
          "gworker", o.error_logfile, o.log_level,
          greenfork::parse_log_format(o.log_format).value_or(greenfork::LogFormat::kText));
      !s.ok()) {
    return fail(greenfork::contract::kExitBootError, s.message());
  }
  if (o.syslog) {
    const std::string prefix = o.syslog_prefix.empty() ? (o.name.empty() ? o.app : o.name) : o.syslog_prefix;
    if (greenfork::Status s = greenfork::add_syslog({o.syslog_addr, o.syslog_facility, greenfork::syslog_tag(prefix)});
        !s.ok()) {
      return fail(kExitUsageError, s.message());
    }
  }
  // Read on every start, so a reload rolls workers onto new files; a bad
  // file fails the boot before READY (and a reload is rolled back).
  std::shared_ptr<asio::ssl::context> tls;
  const char* ticket_keys_env = std::getenv(greenfork::contract::kTlsTicketKeys);
  const std::string ticket_keys = ticket_keys_env != nullptr ? ticket_keys_env : "";
  auto use_ticket_keys = [&ticket_keys](asio::ssl::context& context) {
    if (ticket_keys.empty()) return;
    if (greenfork::Status s = greenfork::tls::use_ticket_keys(context, ticket_keys); !s.ok()) {
      spdlog::warn("{}: this worker keeps its own ticket keys", s.message());
    }
  };
  if (o.tls.enabled()) {
    auto built = greenfork::tls::build_context(o.tls);
    if (!built.ok()) return fail(greenfork::contract::kExitBootError, built.status().message());
    tls = std::move(*built);
    use_ticket_keys(*tls);
  }
  // A secret: the app and its subprocesses do not inherit it.
  ::unsetenv(greenfork::contract::kTlsTicketKeys);
  if (!o.chdir.empty() && ::chdir(o.chdir.c_str()) != 0) {
    return fail(greenfork::contract::kExitBootError,
                "chdir " + o.chdir + ": " + std::strerror(errno));
  }
  if (!o.worker_tmp_dir.empty()) {
    struct stat st{};
    if (::stat(o.worker_tmp_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        ::access(o.worker_tmp_dir.c_str(), W_OK | X_OK) != 0) {
      return fail(greenfork::contract::kExitBootError,
                  "--worker-tmp-dir " + o.worker_tmp_dir + ": not a writable directory");
    }
  }
  std::vector<std::string> warnings;
  auto listeners = gw::open_listeners(o.bind, o.backlog, warnings);
  for (const std::string& w : warnings) spdlog::warn("{}", w);
  if (!listeners.ok()) return fail(greenfork::contract::kExitBootError, listeners.status().message());

  std::unique_ptr<gw::AccessLog> access_log;
  if (!o.access_logfile.empty()) {
    auto opened = gw::AccessLog::open(o.access_logfile, o.access_logformat);
    if (!opened.ok()) return fail(greenfork::contract::kExitBootError, opened.status().message());
    access_log = std::move(*opened);
  }

#ifdef GF_HAVE_FRAMEWORKS
  // -k tornado / -k aiohttp: the framework's own HTTP server (worker/frameworks/).
  if (gw::is_framework_class(o.worker_class)) {
    return gw::run_framework_worker(o, *listeners, access_log.get(), fail);
  }
#endif
  std::unique_ptr<gw::StatsdClient> statsd;
  if (!o.statsd_host.empty()) {
    auto opened = gw::StatsdClient::open(o.statsd_host, o.statsd_prefix, o.dogstatsd_tags);
    if (!opened.ok()) return fail(greenfork::contract::kExitBootError, opened.status().message());
    statsd = std::move(*opened);
    spdlog::default_logger()->sinks().push_back((*statsd).log_sink());
  }

  Host host;
  gw::AppOptions app_options;
  app_options.spec = o.app;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) != nullptr && !o.chdir.empty()) app_options.chdir = cwd;
  app_options.pythonpath = o.pythonpath;
  app_options.virtualenv = o.virtualenv;
  if (app_options.virtualenv.empty()) {
    if (const char* venv = std::getenv("VIRTUAL_ENV")) app_options.virtualenv = venv;
  }
  app_options.reload = o.reload;
  app_options.reload_extra_files = o.reload_extra_files;
  app_options.threads = o.app_threads();
  app_options.asgi = o.asgi();
  app_options.asgi_loop = o.asgi_loop;
  app_options.lifespan = o.lifespan;
  app_options.root_path = o.root_path;
  if (o.green()) app_options.green = o.worker_class;
  app_options.green_connections = o.worker_connections;
  // Gunicorn's order: post_fork, the app, post_worker_init; worker_exit
  // whatever happens after post_fork.
  gw::PythonWorker python;
  bool app_error = false;
  if (greenfork::Status s = python.boot(o, app_options, access_log.get(), &app_error); !s.ok()) {
    return fail(app_error ? greenfork::contract::kExitAppLoadError
                          : greenfork::contract::kExitBootError,
                s.message());
  }
  if (!access_log && python.forwards_access()) {
    access_log = gw::AccessLog::to_sink(o.access_logformat,
                                        [&python](std::string_view line) { python.access_line(line); });
  }
  // Gunicorn's ssl_context hook replaces the context built from the flags.
  if (tls) {
    auto hooked = python.ssl_context(o.tls);
    if (!hooked.ok()) {
      python.worker_exit();
      return fail(greenfork::contract::kExitBootError, hooked.status().message());
    }
    if (*hooked) {
      tls = std::move(*hooked);
      use_ticket_keys(*tls);
    }
  }
  if (greenfork::Status s = python.post_fork(); !s.ok()) {
    python.worker_exit();
    return fail(greenfork::contract::kExitBootError, s.message());
  }
  auto app = gw::load_application(app_options, host);
  if (!app.ok()) {
    python.worker_exit();
    return fail(greenfork::contract::kExitAppLoadError, app.status().message());
  }
  if (greenfork::Status s = python.post_worker_init(); !s.ok()) {
    python.worker_exit();
    return fail(greenfork::contract::kExitBootError, s.message());
  }

  gw::EngineConfig config;
  config.limits = o.limits;
  config.keep_alive = millis(o.keep_alive);
  config.header_timeout = millis(o.header_timeout);
  config.body_timeout = millis(o.body_timeout);
  config.write_timeout = millis(o.write_timeout);
  config.graceful_timeout = millis(o.graceful_timeout);
  config.heartbeat_interval = heartbeat_interval(o);
  config.worker_connections = o.worker_connections;
  config.request_buffering = o.request_buffering;
  config.body_buffer_size = o.body_buffer_size;
  config.worker_tmp_dir = o.worker_tmp_dir;
  // An async app runs on its own loop thread, not on app threads (the
  // --reload error page of a broken async app is a plain app, on one).
  config.app_threads = (*app)->async() != nullptr ? 0 : o.app_threads();
  config.forwarded_allow_ips = o.forwarded_allow_ips;
  config.proxy_allow_from = o.proxy_allow_from;
  config.uwsgi = o.protocol == "uwsgi";
  config.uwsgi_allow_from = o.uwsgi_allow_from;
  if (o.proxy_protocol == "v1") config.proxy_protocol = gw::proxy::ProxyMode::kV1;
  if (o.proxy_protocol == "v2") config.proxy_protocol = gw::proxy::ProxyMode::kV2;
  if (o.proxy_protocol == "auto") config.proxy_protocol = gw::proxy::ProxyMode::kAuto;
  config.tls = tls;
  config.http1 = o.http1;
  config.http2 = o.http2;
  config.max_requests = o.max_requests;
  config.ws_max_size = o.ws_max_size;
  config.ws_ping_interval = millis(o.ws_ping_interval);
  config.ws_ping_timeout = millis(o.ws_ping_timeout);
  config.ws_per_message_deflate = o.ws_per_message_deflate == "true" || o.ws_per_message_deflate == "True" ||
                                  o.ws_per_message_deflate == "1";
  if (o.max_requests != 0 && o.max_requests_jitter != 0) {
    std::mt19937_64 rng(std::random_device{}());
    config.max_requests += rng() % (o.max_requests_jitter + 1);
  }
  std::vector<std::string> names;
  for (const gw::Listener& l : *listeners) names.push_back(l.name);

  // An inline Python app (-k sync) may hold the I/O thread for long: its
  // clients stay with Asio's acceptors, which take nobody meanwhile. An
  // inline native handler promises not to block (GF_APP_INLINE).
  config.exclusive_accept = !(**app).runs_inline() || o.app.rfind("native:", 0) == 0;
  gw::Server server(config, **app, host, std::move(*listeners), access_log.get());
  host.server = &server;
  if (!server.boot_error().empty()) {
    return fail(greenfork::contract::kExitBootError, "listening sockets: " + server.boot_error());
  }
  auto reopen_logs = [&server, &access_log] {
    // On the I/O thread: the access log is only written there.
    asio::post(server.io(), [&access_log] {
      if (greenfork::Status s = greenfork::reopen_error_log(); !s.ok()) spdlog::error("{}", s.message());
      if (access_log) {
        if (greenfork::Status s = access_log->reopen(); !s.ok()) spdlog::error("{}", s.message());
      }
    });
  };
  server.on_reopen_logs(reopen_logs);
  if (statsd) {
    server.on_request_finished([s = statsd.get()](const gw::Exchange& e) {
      s->request(e.status(), std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - e.request.received_at));
    });
    statsd->flush_every(server.io(), std::chrono::milliseconds(100));
  }
  server.on_quit_signal([&python](int) { python.worker_int(); });
  // ABRT (arbiterd's heartbeat timeout): Gunicorn's worker_abort, then
  // worker_exit and exit 1. Without those hooks ABRT keeps its default.
  std::unique_ptr<gw::SignalThread> abort_signal;
  if (python.handles_abort()) {
    abort_signal = std::make_unique<gw::SignalThread>(std::initializer_list<int>{SIGABRT},
                                                      [&python, &access_log](int) {
      python.worker_abort();
      python.worker_exit();
      if (access_log) access_log->flush();
      spdlog::default_logger()->flush();
      std::fflush(stdout);
      std::_Exit(1);
    });
  }

  const std::unique_ptr<gw::Readiness> readiness = gw::Readiness::create();
  if (greenfork::Status s = readiness->ready(); !s.ok()) {
    return fail(greenfork::contract::kExitBootError, "readiness: " + s.message());
  }
  gw::Readiness* ready = readiness.get();
  server.on_heartbeat([ready](const gw::EngineStats& stats) { ready->beat(stats); });

  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
  if (o.asgi() || o.green()) {
    spdlog::info("Booted gworker (pid {}) serving {} app {} on {}{} (readiness: {})", getpid(),
                 o.asgi() ? "ASGI" : o.worker_class, o.app, joined, tls ? " over TLS" : "", ready->kind());
  } else {
    spdlog::info("Booted gworker (pid {}) serving {} on {}{} ({} app thread{}, readiness: {})",
                 getpid(), o.app, joined, tls ? " over TLS" : "", config.app_threads,
                 config.app_threads == 1 ? "" : "s", ready->kind());
  }

  const int code = server.run();
  // A last beat with the final counters: arbiterd keeps them in the pool's
  // totals (it reads a worker's datagrams before reaping it).
  ready->beat(server.stats());
  ready->stopping();
  if (abort_signal) abort_signal->stop();
  if (statsd) {
    statsd->stop_flushing();
    statsd->flush();
  }
  python.worker_exit();
  if (access_log) access_log->flush();
  if (server.forced()) {
    spdlog::default_logger()->flush();
    std::fflush(stdout);
    std::_Exit(code);
  }
  (*app)->shutdown();
  spdlog::info("Worker exiting (pid {})", getpid());
  spdlog::default_logger()->flush();
  return code;
}
