// The few pieces of the gateway written in Python because they run once
// (loading the app) or are Python protocol by nature (wsgi.file_wrapper):
// module "_greenfork_wsgi", compiled from source embedded in gworker.
//
//   load(module, expression) -> the app; raises AppLoadError with
//       Gunicorn's messages, or whatever importing the module raised
//   parse_expression(expr) -> (names, args, kwargs) ; args None if no call
//   FileWrapper(filelike, blksize=8192)
//   format_exception(exc) -> str   (traceback text)
//   module_files() -> [paths of imported modules' source files]
#pragma once

#include "greenfork/wsgi/py.hpp"

namespace greenfork::wsgi {

// GIL held. The module (borrowed, cached), or nullptr with an exception set.
PyObject* helper_module();

}  // namespace greenfork::wsgi
