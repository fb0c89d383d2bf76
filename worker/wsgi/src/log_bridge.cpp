#include "greenfork/wsgi/log_bridge.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace greenfork::wsgi {
namespace {

AccessLineWriter g_access;

spdlog::level::level_enum level_of(long levelno) {
  if (levelno >= 50) return spdlog::level::critical;
  if (levelno >= 40) return spdlog::level::err;
  if (levelno >= 30) return spdlog::level::warn;
  if (levelno >= 20) return spdlog::level::info;
  if (levelno >= 10) return spdlog::level::debug;
  return spdlog::level::trace;
}

// error(levelno, text, exception): one record to the error log.
PyObject* log_error(PyObject*, PyObject* args) {
  long levelno = 0;
  const char* text = nullptr;
  Py_ssize_t len = 0;
  int exception = 0;
  if (!PyArg_ParseTuple(args, "ls#p", &levelno, &text, &len, &exception)) return nullptr;
  const spdlog::level::level_enum level = level_of(levelno);
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger != nullptr && logger->should_log(level)) {
    const std::string_view message(text, static_cast<size_t>(len));
    const spdlog::source_loc where{"python", 0, exception ? kExceptionRecord : "record"};
    Py_BEGIN_ALLOW_THREADS
    logger->log(where, level, "{}", message);
    Py_END_ALLOW_THREADS
  }
  Py_RETURN_NONE;
}

// access(text): one line to the access log.
PyObject* log_access(PyObject*, PyObject* arg) {
  Py_ssize_t len = 0;
  const char* text = PyUnicode_AsUTF8AndSize(arg, &len);
  if (text == nullptr) return nullptr;
  if (g_access) {
    const std::string_view line(text, static_cast<size_t>(len));
    Py_BEGIN_ALLOW_THREADS
    g_access(line);
    Py_END_ALLOW_THREADS
  }
  Py_RETURN_NONE;
}

PyObject* requests(PyObject*, PyObject*) {
  return PyLong_FromUnsignedLongLong(g_requests_handled.load(std::memory_order_relaxed));
}

PyMethodDef g_methods[] = {
    {"error", log_error, METH_VARARGS, "error(levelno, text, exception): to gworker's error log"},
    {"access", log_access, METH_O, "access(text): a line to gworker's access log"},
    {"requests", requests, METH_NOARGS, "requests(): requests handled by this worker"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, "_greenfork_log",
                        "gworker's error and access logs", -1, g_methods,
                        nullptr, nullptr, nullptr, nullptr};

}  // namespace

bool log_bridge_install(AccessLineWriter access) {
  g_access = std::move(access);
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  if (PyDict_GetItemString(modules, "_greenfork_log") != nullptr) return true;
  PyRef module(PyModule_Create(&g_module));
  return module && PyDict_SetItemString(modules, "_greenfork_log", module.get()) == 0;
}

}  // namespace greenfork::wsgi
