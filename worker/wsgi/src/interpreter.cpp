#include "greenfork/wsgi/py.hpp"

#include "greenfork/wsgi/interpreter.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace greenfork::wsgi {
namespace {

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable(const std::string& p) { return ::access(p.c_str(), X_OK) == 0; }

std::string absolute(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf)) return buf;
  if (!p.empty() && p.front() == '/') return p;
  if (::getcwd(buf, sizeof buf)) return std::string(buf) + "/" + p;
  return p;
}

Status from_pystatus(const char* what, PyStatus st) {
  std::string msg = what;
  if (st.func) msg += std::string(": ") + st.func;
  if (st.err_msg) msg += std::string(": ") + st.err_msg;
  return Status::error(msg);
}

// What the last extend_sys_path() put first: the Gunicorn side boots the
// interpreter before the app loader asks for the same again.
std::vector<std::string> g_last_front;

// sys.path[0:0] = [cwd, *pythonpath]: Gunicorn puts --chdir first.
Status extend_sys_path(const InterpreterOptions& o) {
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (!path || !PyList_Check(path)) return Status::error("sys.path is not a list");
  std::vector<std::string> front;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return Status::from_errno("getcwd");
  front.emplace_back(cwd);
  for (const std::string& p : o.pythonpath) {
    if (!p.empty()) front.push_back(absolute(p));
  }
  if (front == g_last_front) return {};
  g_last_front = front;
  for (size_t i = front.size(); i-- > 0;) {
    PyRef s(PyUnicode_DecodeFSDefault(front[i].c_str()));
    if (!s || PyList_Insert(path, 0, s.get()) < 0) {
      PyErr_Print();
      return Status::error("cannot extend sys.path with " + front[i]);
    }
  }
  return {};
}

}  // namespace

StatusOr<std::string> python_executable(const std::string& virtualenv) {
  std::string venv = virtualenv;
  if (venv.empty()) {
    if (const char* v = ::getenv("VIRTUAL_ENV"); v && *v) venv = v;
  }
  if (venv.empty()) return std::string(GF_PYTHON);
  venv = absolute(venv);
  if (!is_dir(venv)) return Status::error("virtualenv " + venv + ": no such directory");
  const std::string version = "python" + std::to_string(PY_MAJOR_VERSION) + "." +
                              std::to_string(PY_MINOR_VERSION);
  if (!is_dir(venv + "/lib/" + version + "/site-packages")) {
    return Status::error("virtualenv " + venv + " has no lib/" + version +
                         "/site-packages: gworker embeds Python " + version +
                         " and can only use a virtualenv made by it (" GF_PYTHON " -m venv DIR)");
  }
  for (const char* name : {"python3", "python", "python3.11"}) {
    std::string exe = venv + "/bin/" + name;
    if (is_executable(exe)) return exe;
  }
  return Status::error("virtualenv " + venv + " has no bin/python3");
}

Status start_interpreter(const InterpreterOptions& o) {
  if (!o.chdir.empty() && ::chdir(o.chdir.c_str()) != 0) {
    return Status::from_errno("chdir " + o.chdir);
  }
  if (Py_IsInitialized()) return extend_sys_path(o);

  StatusOr<std::string> exe = python_executable(o.virtualenv);
  if (!exe.ok()) return exe.status();

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // the engine owns SIGINT, SIGTERM, ...
  config.parse_argv = 0;
  PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, exe->c_str());
  if (!PyStatus_Exception(st)) {
    st = PyConfig_SetBytesString(&config, &config.executable, exe->c_str());
  }
  if (!PyStatus_Exception(st)) {
    std::vector<char*> argv;
    for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
    st = PyConfig_SetBytesArgv(&config, static_cast<Py_ssize_t>(argv.size()), argv.data());
  }
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st)) return from_pystatus("cannot start Python", st);
  return extend_sys_path(o);
}

AppLoadGil::AppLoadGil()
    : running_(Py_IsInitialized() != 0), state_(running_ ? PyGILState_Ensure() : PyGILState_UNLOCKED) {}

Status AppLoadGil::start(const InterpreterOptions& options) {
  Status st = start_interpreter(options);
  if (!st.ok() && running_) release();
  return st;
}

void AppLoadGil::release() {
  if (running_) {
    PyGILState_Release(state_);
  } else {
    PyEval_SaveThread();
  }
}

}  // namespace greenfork::wsgi
