// Starts Debian's CPython inside gworker, the way Gunicorn's worker sees it:
// sys.executable and sys.prefix are the real interpreter's (or the
// virtualenv's), so subprocess and multiprocessing work; PYTHONPATH is
// honoured; --pythonpath entries and the working directory (after --chdir)
// come first on sys.path; Python installs no signal handlers (the engine
// owns signals).
#pragma once

#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::wsgi {

struct InterpreterOptions {
  std::string chdir;                    // "" keeps the current directory
  std::vector<std::string> pythonpath;  // prepended to sys.path, in order
  std::string virtualenv;               // "" -> $VIRTUAL_ENV -> none
  std::vector<std::string> argv;        // sys.argv
};

// The python executable the interpreter presents as sys.executable.
StatusOr<std::string> python_executable(const std::string& virtualenv);

// Once per process, on the thread that will load the app. Returns with the
// GIL held by the calling thread. A second call only adjusts sys.path.
Status start_interpreter(const InterpreterOptions& options);

}  // namespace greenfork::wsgi
