#include "greenfork/wsgi/py.hpp"

#include "framework_worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "engine/access_log.hpp"
#include "engine/signal_thread.hpp"
#include "framework_state.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/error_log.hpp"
#include "greenfork/wsgi/helper_module.hpp"
#include "greenfork/wsgi/interpreter.hpp"
#include "greenfork/wsgi/log_bridge.hpp"
#include "greenfork/wsgi/py_error.hpp"
#include "greenfork/wsgi/reloader.hpp"
#include "readiness.hpp"

namespace greenfork::worker {

// driver.py, aiohttp_server.py, tornado_server.py (generated).
extern const char* const kFrameworkDriverSource;
extern const char* const kAiohttpServerSource;
extern const char* const kTornadoServerSource;

namespace {

using Clock = FrameworkState::Clock;

// gworker's exit code for arguments it cannot honour (as for bad flags).
constexpr int kExitUsageError = 2;

// The loop ticks every 0.2 s; older than this, it is taken as blocked and
// the beats wait for it (arbiterd's --timeout then applies to the loop).
constexpr auto kTickStale = std::chrono::milliseconds(1000);

double heartbeat_seconds(const Options& o) {
  if (const char* text = std::getenv(contract::kHeartbeatInterval)) {
    const double s = std::atof(text);
    if (s > 0) return s;
  }
  return o.timeout > 0 ? std::max(0.5, o.timeout / 2) : 1.0;
}

// --reload's restarts: the loop drains and ends (as for --max-requests)
// on b"R" from the signal pipe, and arbiterd starts a fresh worker.
class ReloadHost final : public WorkerHost {
 public:
  explicit ReloadHost(int signal_write_fd) : fd_(signal_write_fd) {}
  void request_restart(const std::string& reason) override {
    spdlog::info("{}", reason);
    const char r = 'R';
    (void)!::write(fd_, &r, 1);
  }
  void log_error(std::string_view message) override { spdlog::error("{}", message); }

 private:
  int fd_;
};

// Beats while the Python loop is alive: a C++ thread, so a loop that blocks
// (a sync WSGI app under WSGIContainer, a handler that never yields) sends
// no beat and shows its request's age growing.
class BeatThread {
 public:
  BeatThread(FrameworkState& state, Readiness& readiness, double interval)
      : state_(state), readiness_(readiness),
        interval_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval))),
        thread_([this] { run(); }) {}
  ~BeatThread() { stop(); }
  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    Clock::time_point last_beat{}, last_flush = Clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; })) {
      // The access log's buffer reaches its file within a second, as the
      // engine's does.
      if (state_.access_log != nullptr && Clock::now() - last_flush >= std::chrono::seconds(1)) {
        state_.access_log->flush();
        last_flush = Clock::now();
      }
      if (!state_.ready.load()) continue;
      const auto now = Clock::now();
      const Clock::time_point tick{Clock::duration(state_.last_tick_ns.load(std::memory_order_relaxed))};
      if (now - tick > kTickStale) continue;
      if (now - last_beat < interval_ && !(state_.stopping.load() && !sent_stopping_)) continue;
      sent_stopping_ = state_.stopping.load();
      readiness_.beat(state_.snapshot());
      last_beat = now;
    }
  }

  FrameworkState& state_;
  Readiness& readiness_;
  Clock::duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool sent_stopping_ = false;
  std::thread thread_;
};

int level_number(const std::string& level) {
  if (level == "debug") return 10;
  if (level == "warning") return 30;
  if (level == "error") return 40;
  if (level == "critical") return 50;
  return 20;
}

// The pending exception's message ("" when none), cleared.
std::string take_exception_text(bool* is_boot_error, PyObject* driver) {
  wsgi::PyRef v = wsgi::take_exception();
  if (!v) return "unknown error";
  wsgi::PyRef boot(PyObject_GetAttrString(driver, "BootError"));
  *is_boot_error = boot && PyObject_IsInstance(v.get(), boot.get()) == 1;
  PyErr_Clear();
  return wsgi::exception_str(v.get());
}

// Runs `source` as module `name` (in sys.modules); null with the error set.
wsgi::PyRef exec_module(const char* name, const char* source, const std::string& file) {
  wsgi::PyRef code(Py_CompileString(source, ("<greenfork/frameworks/" + file + ">").c_str(), Py_file_input));
  return wsgi::PyRef(code ? PyImport_ExecCodeModule(name, code.get()) : nullptr);
}

}  // namespace

bool is_framework_class(const std::string& worker_class) {
  return worker_class == "tornado" || worker_class == "aiohttp";
}

int run_framework_worker(const Options& o, const std::vector<Listener>& listeners,
                         AccessLog* access_log, const FailFn& fail) {
  // Refused rather than ignored: plain HTTP where TLS was asked for, or a
  // framework parsing PROXY headers as requests, would be worse than no start.
  if (o.tls.enabled()) {
    return fail(kExitUsageError, "-k " + o.worker_class + " serves with the framework's own HTTP server: "
                "--certfile/--keyfile (TLS) are not supported; terminate TLS in a proxy in front");
  }
  if (o.proxy_protocol != "off") {
    return fail(kExitUsageError, "-k " + o.worker_class + " serves with the framework's own HTTP server: "
                "--proxy-protocol is not supported");
  }
  // What the framework-native classes leave out, said once at boot rather
  // than silently ignored (a gunicorn.conf.py always comes as --config).
  if (!o.config.empty()) {
    spdlog::warn("-k {}: the worker-side server hooks of {} (post_fork, post_worker_init, pre_request, "
                 "worker_exit, ...) are not run by the framework-native worker classes", o.worker_class, o.config);
  }
  if (!o.log_config.empty() || !o.log_config_dict.empty() || !o.log_config_json.empty()) {
    spdlog::warn("-k {}: --log-config* is not applied; Python's log records go to gworker's error log",
                 o.worker_class);
  }
  if (!o.statsd_host.empty()) spdlog::warn("-k {}: --statsd-host is not supported; no metrics are sent", o.worker_class);

  wsgi::InterpreterOptions io;
  io.pythonpath = o.pythonpath;
  io.virtualenv = o.virtualenv;
  io.argv = {"gworker", o.app};
  if (Status s = wsgi::start_interpreter(io); !s.ok()) return fail(contract::kExitAppLoadError, s.message());

  FrameworkState state;
  state.access_log = access_log;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return fail(contract::kExitBootError, Status::from_errno("pipe").message());
  }
  state.signal_read_fd = pipe_fds[0];
  const int signal_write_fd = pipe_fds[1];

  const std::unique_ptr<Readiness> readiness = Readiness::create();
  std::string names;
  for (const Listener& l : listeners) names += (names.empty() ? "" : ", ") + l.name;
  state.on_ready = [&] {
    if (Status s = readiness->ready(); !s.ok()) spdlog::error("readiness: {}", s.message());
    spdlog::info("Booted gworker (pid {}) serving {} app {} on {} with the framework's own HTTP server "
                 "(readiness: {})", getpid(), o.worker_class, o.app, names, readiness->kind());
  };
  wsgi::AccessLineWriter access_lines;
  if (access_log != nullptr) access_lines = [access_log](std::string_view l) { access_log->write_line(l); };
  if (!wsgi::log_bridge_install(access_lines) || !install_framework_module(&state) ||
      wsgi::helper_module() == nullptr) {
    PyErr_Print();
    return fail(contract::kExitBootError, "cannot install gworker's Python modules");
  }
  wsgi::PyRef driver = exec_module("_greenfork_frameworks", kFrameworkDriverSource, "driver.py");
  const bool servers = driver && exec_module("_greenfork_fw_aiohttp", kAiohttpServerSource, "aiohttp_server.py") &&
                       exec_module("_greenfork_fw_tornado", kTornadoServerSource, "tornado_server.py");
  if (!servers) {
    PyErr_Print();
    return fail(contract::kExitBootError, "cannot load gworker's framework driver");
  }

  // Signals on their own thread: TERM goes to the loop through the pipe
  // (graceful stop there); INT and QUIT end the process at once, as
  // Gunicorn's workers do; USR1 reopens the logs here.
  SignalThread signals({SIGTERM, SIGINT, SIGQUIT, SIGUSR1}, [&](int signo) {
    if (signo == SIGTERM) {
      const char t = 'T';
      (void)!::write(signal_write_fd, &t, 1);
    } else if (signo == SIGUSR1) {
      if (Status s = reopen_error_log(); !s.ok()) spdlog::error("{}", s.message());
      if (access_log != nullptr) {
        if (Status s = access_log->reopen(); !s.ok()) spdlog::error("{}", s.message());
      }
    } else {
      spdlog::info("Worker exiting at once on signal {} (pid {})", signo, getpid());
      readiness->stopping();
      if (access_log != nullptr) access_log->flush();
      spdlog::default_logger()->flush();
      std::fflush(stdout);
      std::_Exit(0);
    }
  });
  BeatThread beats(state, *readiness, heartbeat_seconds(o));

  uint64_t max_requests = o.max_requests;
  if (max_requests != 0 && o.max_requests_jitter != 0) {
    std::mt19937_64 rng(std::random_device{}());
    max_requests += rng() % (o.max_requests_jitter + 1);
  }
  wsgi::PyRef fds(PyList_New(0));
  for (const Listener& l : listeners) {
    wsgi::PyRef fd(PyLong_FromLong(l.fd));
    PyList_Append(fds.get(), fd.get());
  }
  wsgi::PyRef opts(Py_BuildValue("{s:d,s:K,s:d,s:i,s:O}", "graceful_timeout", o.graceful_timeout,
                                 "max_requests", static_cast<unsigned long long>(max_requests),
                                 "keep_alive", o.keep_alive, "log_level", level_number(o.log_level),
                                 "access_log", access_log != nullptr ? Py_True : Py_False));
  ReloadHost reload_host(signal_write_fd);
  std::unique_ptr<wsgi::Reloader> reloader;
  if (o.reload) {
    reloader = std::make_unique<wsgi::Reloader>(reload_host, std::vector<std::string>{});
    reloader->watch_patterns(o.reload_extra_files);
    reloader->start();
  }
  wsgi::PyRef rc(PyObject_CallMethod(driver.get(), "run", "ssOO", o.worker_class.c_str(), o.app.c_str(),
                                     fds.get(), opts.get()));
  if (reloader) {
    // Not while this thread holds the GIL the reloader's poll may wait for.
    Py_BEGIN_ALLOW_THREADS
    reloader->stop();
    Py_END_ALLOW_THREADS
  }
  int exit_code = 0;
  if (!rc) {
    bool boot_error = false;
    const std::string message = take_exception_text(&boot_error, driver.get());
    if (!state.ready.load()) {
      beats.stop();
      signals.stop();
      return fail(boot_error ? contract::kExitBootError : contract::kExitAppLoadError, message);
    }
    spdlog::error("{} worker failed: {}", o.worker_class, message);
    exit_code = 1;
  } else {
    exit_code = static_cast<int>(PyLong_AsLong(rc.get()));
  }
  beats.stop();
  readiness->beat(state.snapshot());
  readiness->stopping();
  signals.stop();
  if (access_log != nullptr) access_log->flush();
  rc = wsgi::PyRef();
  opts = wsgi::PyRef();
  fds = wsgi::PyRef();
  driver = wsgi::PyRef();
  if (Py_FinalizeEx() < 0) spdlog::warn("Python finalization reported an error");
  ::close(signal_write_fd);
  ::close(state.signal_read_fd);
  spdlog::info("Worker exiting (pid {})", getpid());
  spdlog::default_logger()->flush();
  return exit_code;
}

}  // namespace greenfork::worker
