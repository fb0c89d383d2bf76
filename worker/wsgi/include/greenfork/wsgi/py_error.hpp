// The pending Python exception, taken as an object: one way for every
// embedded-Python part (WSGI, ASGI, green, frameworks) to turn an error
// into a log line or a Status. The GIL is held for all of these.
//
//   PyRef exc = take_exception();           // cleared; null if none was set
//   return Status::error("import: " + exception_line(exc.get()));
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <string>

namespace greenfork::wsgi {

// The pending exception (cleared), normalized, with its traceback attached
// (__traceback__); null when none is set.
PyRef take_exception();

// str(o) of an exception (or any object), or "" (never raises).
std::string exception_str(PyObject* exc);

// "TypeName: message" ("unknown error" for null).
std::string exception_line(PyObject* exc);

// The traceback and the exception to stderr, as PyErr_Print() would.
void print_exception(PyObject* exc);

}  // namespace greenfork::wsgi
