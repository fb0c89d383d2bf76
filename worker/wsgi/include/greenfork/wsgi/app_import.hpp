// What every embedded-Python worker class (-k sync/gthread, asgi,
// gevent/eventlet) does before its own setup: start the interpreter for the
// app's options and import the app object by Gunicorn's rules.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <memory>
#include <string>

#include "greenfork/status.hpp"
#include "greenfork/wsgi/app_spec.hpp"
#include "greenfork/wsgi/interpreter.hpp"
#include "greenfork/wsgi/load_failure.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

// The interpreter started for `options` (--chdir, --pythonpath,
// --virtualenv; sys.argv "gworker SPEC"), this thread holding the GIL
// through `gil`.
Status start_app_interpreter(const worker::AppOptions& options, AppLoadGil& gil);

// The object `spec` names, imported (the GIL held). Null on failure, with
// `failure` filled and its traceback and message written to stderr.
PyRef import_app(const AppSpec& spec, const std::string& text, LoadFailure& failure);

// After import_app() failed: with --reload, an app that answers every
// request with the traceback (500) until a file changes (the GIL released);
// otherwise the failure itself (the GIL released too).
StatusOr<std::unique_ptr<worker::Application>> import_failed(const worker::AppOptions& options,
                                                             worker::WorkerHost& host,
                                                             LoadFailure& failure, AppLoadGil& gil);

}  // namespace greenfork::wsgi
