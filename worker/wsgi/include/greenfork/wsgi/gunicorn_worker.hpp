// GunicornWorker: the Gunicorn side of a gworker process, in its embedded
// interpreter — the config file (--config PATH or python:module, executed
// as Gunicorn executes it), the gunicorn.error / gunicorn.access loggers
// writing into gworker's logs, --log-config*, and the worker-side server
// hooks with their `worker`, `server`, `req` and `resp` objects
// (gunicorn_glue.py).
//
//   auto w = GunicornWorker::boot(interpreter_options, setup);  // exit 3 on error
//   if (Status s = (*w)->post_fork(); !s.ok()) ...               // exit 3
//   ... load the app ...; (*w)->post_worker_init(); serve; (*w)->worker_exit();
//
// Every method but boot() takes the GIL itself (any thread).
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/wsgi/interpreter.hpp"
#include "greenfork/wsgi/log_bridge.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

struct GunicornSetup {
  std::string config;           // --config: PATH, file:PATH or python:module ("" none)
  std::string log_level = "info";
  bool access_log = false;      // gunicorn.access gets a handler (--access-logfile given)
  AccessLineWriter access_writer;
  std::string log_config;       // --log-config (fileConfig ini)
  std::string log_config_dict;  // --log-config-dict (JSON text)
  std::string log_config_json;  // --log-config-json (a JSON file)
  // The settings gworker runs with, for worker.cfg (they override the file's).
  // std::monostate is None.
  using Value = std::variant<std::monostate, std::string, long long, double, bool,
                             std::vector<std::string>>;
  std::vector<std::pair<std::string, Value>> settings;
};

class GunicornWorker {
 public:
  // Starts the interpreter (or joins the running one), reads the config
  // and sets up logging. On return this thread no longer holds the GIL. A
  // failure's message says what was wrong; its traceback went to the
  // error log. *interpreter_failed says the interpreter itself could not
  // start (a bad --virtualenv: the app cannot load, exit 4).
  static StatusOr<std::unique_ptr<GunicornWorker>> boot(const InterpreterOptions& interpreter,
                                                        const GunicornSetup& setup,
                                                        bool* interpreter_failed);

  // Gunicorn's consequences: a raising post_fork or post_worker_init fails
  // the boot (the error says so); the other hooks are logged and ignored.
  Status post_fork();
  Status post_worker_init();
  void worker_int();
  void worker_abort();
  void worker_exit();

  bool has(const char* hook) const;

  // The config file's ssl_context hook (Gunicorn's ssl_context(config,
  // default_ssl_context_factory)), called with worker.cfg and a factory that
  // builds an ssl.SSLContext from these settings. Returns the OpenSSL
  // SSL_CTX of the ssl.SSLContext it returned (the Python object is kept
  // for the process); an error when the hook raised (its traceback logged)
  // or returned something else.
  struct TlsFiles {
    std::string certfile, keyfile, ca_certs, ciphers;
    int cert_reqs = 0;    // ssl.CERT_NONE/OPTIONAL/REQUIRED
    int min_version = 0;  // OpenSSL's (and ssl.TLSVersion's) numbers; 0: TLS 1.2
    int max_version = 0;  // 0: no maximum
  };
  StatusOr<void*> ssl_context(const TlsFiles& files);

  // Gunicorn logs access lines through gunicorn.access when a logging
  // config is given: true when one was and there is no --access-logfile.
  bool forwards_access() const { return forward_access_; }
  // Any thread, never waits for the GIL: queued for a thread of its own
  // that hands batches to gunicorn.access (dropped beyond a bound).
  void access_line(std::string_view line);
  // Emits what is queued and joins that thread; before finalization.
  void stop_forwarding();
  ~GunicornWorker();
  bool has_request_hooks() const { return pre_request_ || post_request_; }
  bool has_pre_request() const { return pre_request_; }
  bool has_post_request() const { return post_request_; }

  // GIL held, for the WSGI gateway. A new `req` for the hooks.
  PyObject* make_request(const worker::Request& request) const;
  // GIL held. Returns false with the hook's exception set.
  bool pre_request(PyObject* req) const;
  // GIL held. A raising hook is logged; nothing is left set.
  void post_request(PyObject* req, PyObject* environ, const std::string& status,
                    const std::vector<worker::Header>& headers, uint64_t sent,
                    std::optional<uint64_t> length) const;

 private:
  GunicornWorker() = default;
  Status run_hook(const char* name, bool fatal);
  void forward_loop();

  PyObject* glue_ = nullptr;  // the module, alive for the process
  std::vector<std::string> hooks_;
  bool pre_request_ = false;
  bool post_request_ = false;
  bool forward_access_ = false;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::string> queue_;
  bool stop_ = false;
  std::thread forwarder_;
};

// The process's booted GunicornWorker, or nullptr (the gateway asks).
GunicornWorker* gunicorn_worker();

}  // namespace greenfork::wsgi
