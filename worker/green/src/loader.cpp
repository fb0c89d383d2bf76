// load_green_application(): the interpreter, the library's monkey patching,
// then the app import (gf_wsgi's), then the hub on gf_asgi's app thread.
#include "greenfork/wsgi/py.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include "green_modules.hpp"
#include "greenfork/asgi/asgi_application.hpp"
#include "greenfork/wsgi/app_import.hpp"
#include "greenfork/wsgi/app_spec.hpp"
#include "greenfork/wsgi/environ_prep.hpp"
#include "greenfork/wsgi/py_error.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker {
namespace {

// The pending Python exception as "Type: message" (cleared), with its
// traceback on stderr.
std::string python_failure() {
  wsgi::PyRef exc = wsgi::take_exception();
  wsgi::print_exception(exc.get());
  return wsgi::exception_line(exc.get());
}

}  // namespace

StatusOr<std::unique_ptr<Application>> load_green_application(const AppOptions& options,
                                                               WorkerHost& host) {
  StatusOr<wsgi::AppSpec> spec = wsgi::split_app_spec(options.spec);
  if (!spec.ok()) return spec.status();

  wsgi::AppLoadGil gil;
  if (Status st = wsgi::start_app_interpreter(options, gil); !st.ok()) return st;
  // From here this thread holds the GIL until the hub's thread starts.

  PyObject* protocol = green::protocol_module();
  if (protocol == nullptr) {
    const std::string why = python_failure();
    gil.release();
    return Status::error("cannot set up -k " + options.green + ": " + why);
  }
  // Before the app's import, so that the modules it imports see green
  // sockets, sleeps and locks (Gunicorn's workers patch in init_process).
  wsgi::PyRef patched(PyObject_CallMethod(protocol, "patch", "s", options.green.c_str()));
  if (!patched) {
    const std::string why = python_failure();
    gil.release();
    return Status::error("-k " + options.green + ": cannot import or monkey-patch with " +
                         options.green + " (" + why + "); install python3-" + options.green);
  }
  wsgi::PyRef configured(PyObject_CallMethod(protocol, "configure", "sI", options.green.c_str(),
                                             options.green_connections));
  if (!configured) {
    const std::string why = python_failure();
    gil.release();
    return Status::error("cannot set up -k " + options.green + ": " + why);
  }

  wsgi::LoadFailure f;
  wsgi::PyRef app = wsgi::import_app(*spec, options.spec, f);
  if (!app) return wsgi::import_failed(options, host, f, gil);
  if (!PyCallable_Check(app.get())) {
    gil.release();
    return Status::error("'" + options.spec + "' is not a callable WSGI application");
  }
  const char* script_name = std::getenv("SCRIPT_NAME");
  if (!green::environ_module_init(host, wsgi::normalize_script_name(script_name ? script_name : ""))) {
    const std::string why = python_failure();
    gil.release();
    return Status::error("cannot set up the WSGI environ: " + why);
  }
  asgi::AsgiSettings settings;
  settings.protocol = protocol;
  return asgi::AsgiApplication::launch(std::move(app), settings, options, host, gil);
}

}  // namespace greenfork::worker
