#include "greenfork/wsgi/app_import.hpp"

#include <cstdio>
#include <utility>

#include "greenfork/wsgi/error_application.hpp"
#include "greenfork/wsgi/helper_module.hpp"
#include "greenfork/wsgi/reloader.hpp"

namespace greenfork::wsgi {

Status start_app_interpreter(const worker::AppOptions& options, AppLoadGil& gil) {
  InterpreterOptions interp;
  interp.chdir = options.chdir;
  interp.pythonpath = options.pythonpath;
  interp.virtualenv = options.virtualenv;
  interp.argv = {"gworker", options.spec};
  return gil.start(interp);
}

PyRef import_app(const AppSpec& spec, const std::string& text, LoadFailure& failure) {
  PyObject* helper = helper_module();
  PyRef app(helper ? PyObject_CallMethod(helper, "load", "ss", spec.module.c_str(), spec.expression.c_str())
                   : nullptr);
  if (!app) {
    failure = describe_load_failure(helper, text);
    std::fprintf(stderr, "%s\n%s\n", failure.traceback.c_str(), failure.message.c_str());
    std::fflush(stderr);
  }
  return app;
}

StatusOr<std::unique_ptr<worker::Application>> import_failed(const worker::AppOptions& options,
                                                             worker::WorkerHost& host,
                                                             LoadFailure& failure, AppLoadGil& gil) {
  if (!options.reload) {
    gil.release();
    return Status::error(failure.message);
  }
  host.log_error("--reload: " + failure.message + "; serving the traceback until a file changes");
  auto reloader = std::make_unique<Reloader>(host, std::move(failure.files));
  reloader->watch_patterns(options.reload_extra_files);
  gil.release();
  reloader->start();
  return std::unique_ptr<worker::Application>(
      new ErrorApplication(failure.traceback + "\n\n" + failure.message, std::move(reloader)));
}

}  // namespace greenfork::wsgi
