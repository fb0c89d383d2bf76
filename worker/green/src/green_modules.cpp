#include "green_modules.hpp"

#include <cctype>
#include <string>

#include <optional>
#include <string_view>
#include <vector>

#include "../../asgi/src/native_module.hpp"
#include "greenfork/wsgi/environ_builder.hpp"
#include "greenfork/wsgi/environ_prep.hpp"
#include "greenfork/wsgi/error_stream.hpp"
#include "greenfork/wsgi/gunicorn_worker.hpp"
#include "greenfork/wsgi/helper_module.hpp"

namespace greenfork::green {

extern const char* const kGreenProtocolSource;

namespace {

// Written once at load time, then used only on the hub's thread.
wsgi::EnvironBuilder* g_builder = nullptr;
wsgi::EnvironConfig g_config;

PyObject* environ(PyObject*, PyObject* args) {
  PyObject* handle = nullptr;
  PyObject* input = nullptr;
  if (!PyArg_ParseTuple(args, "OO", &handle, &input)) return nullptr;
  worker::AsyncExchange* exchange = asgi::exchange_of(handle);
  if (exchange == nullptr) return nullptr;
  const worker::Request& request = exchange->head();
  const wsgi::PreparedEnviron prepared = wsgi::prepare_environ(request, g_config);
  return g_builder->build(prepared, request, input);
}

// A str of code points <= 255 as its latin-1 bytes (PEP 3333's "native
// strings"); false with an exception set.
bool latin1(PyObject* o, const char* what, std::string& out) {
  if (!PyUnicode_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str, not %s", what, Py_TYPE(o)->tp_name);
    return false;
  }
  wsgi::PyRef bytes(PyUnicode_AsLatin1String(o));
  if (!bytes) return false;
  out.assign(PyBytes_AS_STRING(bytes.get()), static_cast<size_t>(PyBytes_GET_SIZE(bytes.get())));
  return true;
}

// [(name, value), ...] of str -> Headers; false with an exception set.
bool header_list(PyObject* headers, std::vector<worker::Header>& list) {
  wsgi::PyRef seq(PySequence_Fast(headers, "response headers must be a list of (name, value)"));
  if (!seq) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
  list.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(seq.get(), i);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_SetString(PyExc_TypeError, "a response header must be a (name, value) tuple");
      return false;
    }
    worker::Header h;
    if (!latin1(PyTuple_GET_ITEM(item, 0), "a header name", h.name) ||
        !latin1(PyTuple_GET_ITEM(item, 1), "a header value", h.value)) {
      return false;
    }
    list.push_back(std::move(h));
  }
  return true;
}

// start(handle, "200 OK", headers): the status line keeps the app's reason
// phrase (the engine's Exchange is also a ResponseWriter, which takes one).
PyObject* start(PyObject*, PyObject* args) {
  PyObject* handle = nullptr;
  PyObject* status = nullptr;
  PyObject* headers = nullptr;
  if (!PyArg_ParseTuple(args, "OOO", &handle, &status, &headers)) return nullptr;
  worker::AsyncExchange* exchange = asgi::exchange_of(handle);
  if (exchange == nullptr) return nullptr;
  std::string line;
  if (!latin1(status, "status", line)) return nullptr;
  if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
      !std::isdigit(static_cast<unsigned char>(line[1])) ||
      !std::isdigit(static_cast<unsigned char>(line[2])) || (line.size() > 3 && line[3] != ' ')) {
    PyErr_Format(PyExc_ValueError, "status %R does not start with a 3-digit code", status);
    return nullptr;
  }
  const int code = std::stoi(line.substr(0, 3));
  const std::string_view reason = line.size() > 4 ? std::string_view(line).substr(4) : "";
  std::vector<worker::Header> list;
  if (!header_list(headers, list)) return nullptr;
  auto* writer = dynamic_cast<worker::ResponseWriter*>(exchange);
  Status s = writer != nullptr && !reason.empty() ? writer->start(code, reason, std::move(list))
                                                  : exchange->start(code, std::move(list));
  if (!s.ok()) {
    PyErr_SetString(PyExc_ValueError, s.message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

// (has pre_request, has post_request) of the --config file's hooks.
PyObject* hooks(PyObject*, PyObject*) {
  const wsgi::GunicornWorker* w = wsgi::gunicorn_worker();
  const bool pre = w != nullptr && w->has_pre_request();
  const bool post = w != nullptr && w->has_post_request();
  return Py_BuildValue("(OO)", pre ? Py_True : Py_False, post ? Py_True : Py_False);
}

// make_request(handle) -> Gunicorn's `req` for the hooks.
PyObject* make_request(PyObject*, PyObject* handle) {
  const wsgi::GunicornWorker* w = wsgi::gunicorn_worker();
  worker::AsyncExchange* exchange = asgi::exchange_of(handle);
  if (exchange == nullptr) return nullptr;
  if (w == nullptr) Py_RETURN_NONE;
  return w->make_request(exchange->head());
}

// pre_request(req): the hook (its exception propagates).
PyObject* pre_request(PyObject*, PyObject* req) {
  const wsgi::GunicornWorker* w = wsgi::gunicorn_worker();
  if (w != nullptr && w->has_pre_request() && !w->pre_request(req)) return nullptr;
  Py_RETURN_NONE;
}

// post_request(req, environ, status, headers, sent, length|None)
PyObject* post_request(PyObject*, PyObject* args) {
  PyObject *req = nullptr, *environ = nullptr, *status = nullptr, *headers = nullptr,
           *length = nullptr;
  unsigned long long sent = 0;
  if (!PyArg_ParseTuple(args, "OOOOKO", &req, &environ, &status, &headers, &sent, &length)) {
    return nullptr;
  }
  const wsgi::GunicornWorker* w = wsgi::gunicorn_worker();
  if (w == nullptr || !w->has_post_request()) Py_RETURN_NONE;
  std::string line;
  std::vector<worker::Header> list;
  if ((status != Py_None && !latin1(status, "status", line)) ||
      (headers != Py_None && !header_list(headers, list))) {
    return nullptr;
  }
  std::optional<uint64_t> declared;
  if (length != Py_None) declared = PyLong_AsUnsignedLongLong(length);
  if (PyErr_Occurred()) return nullptr;
  w->post_request(req, environ, line, list, sent, declared);
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"environ", environ, METH_VARARGS, "(handle, input): the request's WSGI environ"},
    {"start", start, METH_VARARGS, "(handle, status, headers): the status line and headers"},
    {"hooks", hooks, METH_NOARGS, "(has pre_request, has post_request)"},
    {"make_request", make_request, METH_O, "handle -> the hooks' req"},
    {"pre_request", pre_request, METH_O, "req: runs the pre_request hook"},
    {"post_request", post_request, METH_VARARGS, "(req, environ, status, headers, sent, length)"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_greenfork_green_native", nullptr, -1,
                          module_methods, nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyObject* protocol_module() {
  static PyObject* module = nullptr;
  if (module != nullptr) return module;
  wsgi::PyRef code(Py_CompileString(kGreenProtocolSource, "<greenfork/green/protocol>", Py_file_input));
  if (!code) return nullptr;
  module = PyImport_ExecCodeModule("_greenfork_green", code.get());
  return module;
}

bool environ_module_init(worker::WorkerHost& host, const std::string& script_name) {
  if (g_builder != nullptr) return true;
  PyObject* helper = wsgi::helper_module();
  if (helper == nullptr || !wsgi::error_stream_init_type()) return false;
  // Leaked on purpose, as the WSGI gateway's: they may outlive the interpreter.
  PyObject* file_wrapper = PyObject_GetAttrString(helper, "FileWrapper");
  PyObject* errors = wsgi::error_stream_new(&host);
  if (file_wrapper == nullptr || errors == nullptr) return false;
  wsgi::EnvironConstants constants;
  constants.multithread = true;  // many requests at once, as Gunicorn's async workers say
  constants.multiprocess = true;
  constants.script_name = script_name;
  constants.errors = errors;
  constants.file_wrapper = file_wrapper;
  auto* builder = new wsgi::EnvironBuilder();
  if (!builder->init(constants)) {
    delete builder;
    return false;
  }
  wsgi::PyRef m(PyModule_Create(&module_def));
  if (!m) return false;
  PyObject* modules = PyImport_GetModuleDict();
  if (PyDict_SetItemString(modules, "_greenfork_green_native", m.get()) != 0) return false;
  g_config.script_name = script_name;
  g_builder = builder;
  return true;
}

}  // namespace greenfork::green
