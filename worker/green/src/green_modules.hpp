// The Python side of -k gevent / -k eventlet (worker/green/):
//
//   `_greenfork_green`         green_protocol.py compiled in: patch(kind),
//                              configure(kind, connections), serve(...)
//   `_greenfork_green_native`  environ(handle, input) -> the WSGI environ of
//                              a gf_asgi Exchange handle's request, built by
//                              gf_wsgi's EnvironBuilder (as -k sync/gthread)
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <string>

#include "greenfork/worker/app.hpp"

namespace greenfork::green {

// GIL held. The protocol module (borrowed, cached), or nullptr with an
// exception set.
PyObject* protocol_module();

// GIL held. Creates `_greenfork_green_native` (once): wsgi.errors goes to
// `host`'s error log, SCRIPT_NAME comes from `script_name` (normalized).
// false with an exception set on failure.
bool environ_module_init(worker::WorkerHost& host, const std::string& script_name);

}  // namespace greenfork::green
