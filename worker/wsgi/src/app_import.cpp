#include "greenfork/wsgi/app_import.hpp"

#include <cstdio>

#include "greenfork/wsgi/helper_module.hpp"

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

}  // namespace greenfork::wsgi
