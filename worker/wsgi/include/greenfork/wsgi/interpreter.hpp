// Starts Debian's CPython inside gworker, the way Gunicorn's worker sees it:
// sys.executable and sys.prefix are the real interpreter's (or the
// virtualenv's), so subprocess and multiprocessing work; PYTHONPATH is
// honoured; --pythonpath entries and the working directory (after --chdir)
// come first on sys.path; Python installs no signal handlers (the engine
// owns signals).
#pragma once

#include "greenfork/wsgi/py.hpp"

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

// The GIL on the thread that loads an app. The interpreter may run already
// (gworker's Gunicorn side starts it for hooks and logging; tests load
// twice): the GIL is then taken from it; else start() leaves this thread
// holding it, as start_interpreter() does.
//
//   AppLoadGil gil;
//   if (Status st = gil.start(options); !st.ok()) return st;  // nothing held
//   ... import the app ...
//   gil.release();
class AppLoadGil {
 public:
  AppLoadGil();
  AppLoadGil(const AppLoadGil&) = delete;
  AppLoadGil& operator=(const AppLoadGil&) = delete;

  Status start(const InterpreterOptions& options);
  void release();

 private:
  bool running_;
  PyGILState_STATE state_;
};

}  // namespace greenfork::wsgi
