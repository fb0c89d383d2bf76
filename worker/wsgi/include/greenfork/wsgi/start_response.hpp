// start_response(status, response_headers, exc_info=None) and the write()
// callable it returns (PEP 3333). Status and headers are checked here, as
// the app calls: a CR, LF or NUL, a bad name or a bad status raises
// ValueError in the app and logs a line, and nothing of it is ever sent.
// One object per app thread is reused while nobody else holds it; it is
// called without an argument tuple (vectorcall) and remembers the status,
// header name and value str objects it last found valid, so an app's
// constants are not checked again on every response.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include "greenfork/wsgi/app_call.hpp"

namespace greenfork::wsgi {

bool start_response_init_types();
// New reference, detached.
PyObject* start_response_new();
void start_response_attach(PyObject* start_response, AppCall* exchange);
void start_response_detach(PyObject* start_response);
// True when only the caller holds the object (and its write callable), so
// it can serve the next request.
bool start_response_reusable(PyObject* start_response);

}  // namespace greenfork::wsgi
