#include "green_modules.hpp"

#include "../../asgi/src/native_module.hpp"
#include "greenfork/wsgi/environ_builder.hpp"
#include "greenfork/wsgi/environ_prep.hpp"
#include "greenfork/wsgi/error_stream.hpp"
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

PyMethodDef module_methods[] = {
    {"environ", environ, METH_VARARGS, "(handle, input): the request's WSGI environ"},
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
