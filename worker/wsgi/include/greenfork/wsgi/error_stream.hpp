// wsgi.errors: a text stream whose lines go to the worker's error log
// (WorkerHost::log_error). One object shared by every request; partial
// lines wait for their newline (or flush()).
#pragma once

#include "greenfork/wsgi/py.hpp"

#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

bool error_stream_init_type();
// New reference; `host` must outlive it.
PyObject* error_stream_new(worker::WorkerHost* host);

}  // namespace greenfork::wsgi
