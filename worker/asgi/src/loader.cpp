// load_asgi_application(): interpreter, import (gf_wsgi's), the loop
// thread and the lifespan startup.
#include "greenfork/wsgi/py.hpp"

#include <memory>
#include <string>

#include "greenfork/asgi/asgi_application.hpp"
#include "greenfork/wsgi/app_import.hpp"
#include "greenfork/wsgi/app_spec.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker {

StatusOr<std::unique_ptr<Application>> load_asgi_application(const AppOptions& options,
                                                              WorkerHost& host) {
  StatusOr<wsgi::AppSpec> spec = wsgi::split_app_spec(options.spec);
  if (!spec.ok()) return spec.status();

  wsgi::AppLoadGil gil;
  if (Status st = wsgi::start_app_interpreter(options, gil); !st.ok()) return st;
  // From here this thread holds the GIL until the loop thread starts.

  wsgi::LoadFailure f;
  wsgi::PyRef app = wsgi::import_app(*spec, options.spec, f);
  if (!app) return wsgi::import_failed(options, host, f, gil);
  asgi::AsgiSettings settings;
  settings.loop = options.asgi_loop;
  settings.lifespan = options.lifespan;
  settings.root_path = options.root_path;
  return asgi::AsgiApplication::launch(std::move(app), settings, options, host, gil);
}

}  // namespace greenfork::worker
