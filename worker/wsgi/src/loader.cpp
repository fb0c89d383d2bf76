// load_wsgi_application(): interpreter, import, and the application object.
#include "greenfork/wsgi/py.hpp"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "greenfork/wsgi/app_import.hpp"
#include "greenfork/wsgi/app_spec.hpp"
#include "greenfork/wsgi/environ_prep.hpp"
#include "greenfork/wsgi/wsgi_application.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker {

StatusOr<std::unique_ptr<Application>> load_wsgi_application(const AppOptions& options,
                                                              WorkerHost& host) {
  StatusOr<wsgi::AppSpec> spec = wsgi::split_app_spec(options.spec);
  if (!spec.ok()) return spec.status();

  wsgi::AppLoadGil gil;
  if (Status st = wsgi::start_app_interpreter(options, gil); !st.ok()) return st;
  // From here this thread holds the GIL until the app is returned.

  wsgi::LoadFailure f;
  wsgi::PyRef app = wsgi::import_app(*spec, options.spec, f);
  if (!app) return wsgi::import_failed(options, host, f, gil);

  wsgi::WsgiSettings settings;
  settings.threads = options.threads;
  settings.multiprocess = options.multiprocess;
  const char* script_name = std::getenv("SCRIPT_NAME");
  settings.script_name = wsgi::normalize_script_name(script_name ? script_name : "");
  StatusOr<std::unique_ptr<wsgi::WsgiApplication>> made =
      wsgi::WsgiApplication::create(app.get(), settings, host);
  app = wsgi::PyRef();
  gil.release();
  if (!made.ok()) return made.status();
  if (options.reload) (*made)->watch_for_changes(options.reload_extra_files);
  return std::unique_ptr<Application>(std::move(*made));
}

}  // namespace greenfork::worker
