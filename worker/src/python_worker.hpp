// PythonWorker: the Gunicorn side of gworker (wsgi::GunicornWorker) as
// main() drives it — boot (config file, gunicorn.error/access loggers,
// --log-config*), then the worker hooks at Gunicorn's points. Does nothing
// for a native app given no --config or --log-config*, and in a gworker
// built without Python.
#pragma once

#include <memory>
#include <string_view>

#include "greenfork/status.hpp"
#include "options.hpp"
#include "tls/tls_context.hpp"

namespace greenfork::worker {

class AccessLog;
struct AppOptions;

class PythonWorker {
 public:
  PythonWorker();
  ~PythonWorker();
  PythonWorker(const PythonWorker&) = delete;
  PythonWorker& operator=(const PythonWorker&) = delete;

  // A failure means exit 3 (the worker failed to boot), or 4 when
  // *app_error says the interpreter the app needs could not start.
  Status boot(const Options& options, const AppOptions& app, AccessLog* access_log,
              bool* app_error);
  bool booted() const;
  Status post_fork();         // before the app is loaded; failure: exit 3
  Status post_worker_init();  // after; failure: exit 3
  void worker_int();          // INT/QUIT, on the signal thread
  void worker_abort();        // ABRT, on its own thread
  void worker_exit();         // last, whatever the reason
  // Gunicorn's access logging through gunicorn.access (a logging config
  // without --access-logfile): the access log main() makes hands lines here.
  bool forwards_access() const;
  void access_line(std::string_view line);
  // A worker_abort or worker_exit hook wants ABRT handled (otherwise its
  // default action stands).
  bool handles_abort() const;
  // With --certfile: the TLS context of the config file's ssl_context hook
  // (Gunicorn's), nullptr without one; an error (exit 3) when the hook
  // raised or returned no usable ssl.SSLContext.
  StatusOr<std::shared_ptr<asio::ssl::context>> ssl_context(const tls::TlsSettings& settings);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace greenfork::worker
