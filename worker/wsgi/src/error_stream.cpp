#include "greenfork/wsgi/error_stream.hpp"

#include <mutex>
#include <string>
#include <string_view>

namespace greenfork::wsgi {
namespace {

struct ErrorState {
  worker::WorkerHost* host = nullptr;
  std::mutex mu;
  std::string partial;

  void write(std::string_view text) {
    std::lock_guard lock(mu);
    for (;;) {
      size_t nl = text.find('\n');
      if (nl == std::string_view::npos) break;
      partial.append(text.substr(0, nl));
      host->log_error(partial);
      partial.clear();
      text.remove_prefix(nl + 1);
    }
    partial.append(text);
  }
  void flush() {
    std::lock_guard lock(mu);
    if (!partial.empty()) {
      host->log_error(partial);
      partial.clear();
    }
  }
};

struct ErrorObject {
  PyObject_HEAD
  ErrorState* state;
};

PyTypeObject* g_type = nullptr;

ErrorState& state_of(PyObject* self) { return *reinterpret_cast<ErrorObject*>(self)->state; }

bool write_one(PyObject* self, PyObject* text) {
  if (!PyUnicode_Check(text)) {
    PyErr_Format(PyExc_TypeError, "wsgi.errors.write() argument must be str, not %.100s",
                 Py_TYPE(text)->tp_name);
    return false;
  }
  Py_ssize_t len = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(text, &len);
  if (!utf8) return false;
  state_of(self).write(std::string_view(utf8, static_cast<size_t>(len)));
  return true;
}

PyObject* errors_write(PyObject* self, PyObject* text) {
  if (!write_one(self, text)) return nullptr;
  return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text));
}

PyObject* errors_writelines(PyObject* self, PyObject* lines) {
  PyRef it(PyObject_GetIter(lines));
  if (!it) return nullptr;
  while (PyRef line{PyIter_Next(it.get())}) {
    if (!write_one(self, line.get())) return nullptr;
  }
  if (PyErr_Occurred()) return nullptr;
  Py_RETURN_NONE;
}

PyObject* errors_flush(PyObject* self, PyObject*) {
  state_of(self).flush();
  Py_RETURN_NONE;
}

void errors_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  delete reinterpret_cast<ErrorObject*>(self)->state;
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef g_methods[] = {
    {"write", as_method(errors_write), METH_O, "write(str): to the error log"},
    {"writelines", as_method(errors_writelines), METH_O, "writelines(iterable of str)"},
    {"flush", as_method(errors_flush), METH_NOARGS, "flush(): log a pending partial line"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(errors_dealloc)},
    {Py_tp_methods, g_methods},
    {Py_tp_doc, const_cast<char*>("wsgi.errors: lines to gworker's error log")},
    {0, nullptr},
};

PyType_Spec g_spec = {"greenfork.ErrorStream", sizeof(ErrorObject), 0,
                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                      g_slots};

}  // namespace

bool error_stream_init_type() {
  if (g_type) return true;
  g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_spec));
  return g_type != nullptr;
}

PyObject* error_stream_new(worker::WorkerHost* host) {
  ErrorObject* obj = PyObject_New(ErrorObject, g_type);
  if (!obj) return nullptr;
  obj->state = new ErrorState();
  obj->state->host = host;
  return reinterpret_cast<PyObject*>(obj);
}

}  // namespace greenfork::wsgi
