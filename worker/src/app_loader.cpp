// load_application: "native:" specs go to the native loader, -k asgi to
// gf_asgi, everything else to the Python WSGI loader (gf_wsgi).
#include "greenfork/worker/app.hpp"
#include "native/native_application.hpp"

namespace greenfork::worker {

StatusOr<std::unique_ptr<Application>> load_application(const AppOptions& options,
                                                         WorkerHost& host) {
  constexpr std::string_view kNative = "native:";
  if (options.spec.rfind(kNative, 0) == 0) {
    return load_native_application(options.spec.substr(kNative.size()), host);
  }
  if (!options.green.empty()) {
#ifdef GF_HAVE_GREEN
    return load_green_application(options, host);
#else
    return Status::error("cannot load '" + options.spec + "': -k " + options.green +
                         " not built into this gworker (gf_green missing)");
#endif
  }
  if (options.asgi) {
#ifdef GF_HAVE_ASGI
    return load_asgi_application(options, host);
#else
    return Status::error("cannot load '" + options.spec +
                         "': ASGI apps not built into this gworker (gf_asgi missing)");
#endif
  }
#ifdef GF_HAVE_WSGI
  return load_wsgi_application(options, host);
#else
  return Status::error("cannot load '" + options.spec +
                       "': Python apps not built into this gworker (gf_wsgi missing); "
                       "use native:/path/libapp.so");
#endif
}

}  // namespace greenfork::worker
