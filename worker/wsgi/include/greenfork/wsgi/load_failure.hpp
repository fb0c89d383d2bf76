// A failed app load (import error, bad spec) as text, shared by the WSGI
// and ASGI loaders.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <string>
#include <vector>

namespace greenfork::wsgi {

struct LoadFailure {
  std::string message;    // one line, for the Status
  std::string traceback;  // for stderr / the reload page
  std::vector<std::string> files;  // source files in the traceback (--reload watches them)
};

// The pending exception, turned into text and cleared (the GIL is held).
// `helper` is helper_module() (may be null); `spec` the app spec.
LoadFailure describe_load_failure(PyObject* helper, const std::string& spec);

}  // namespace greenfork::wsgi
