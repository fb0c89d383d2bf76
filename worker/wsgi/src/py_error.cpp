#include "greenfork/wsgi/py_error.hpp"

namespace greenfork::wsgi {

PyRef take_exception() {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value != nullptr && tb != nullptr) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return PyRef(value);
}

std::string exception_str(PyObject* exc) {
  PyRef s(exc != nullptr ? PyObject_Str(exc) : nullptr);
  const char* c = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
  if (c == nullptr) {
    PyErr_Clear();
    return "";
  }
  return c;
}

std::string exception_line(PyObject* exc) {
  if (exc == nullptr) return "unknown error";
  return std::string(Py_TYPE(exc)->tp_name) + ": " + exception_str(exc);
}

void print_exception(PyObject* exc) {
  if (exc == nullptr) return;
  PyRef tb(PyException_GetTraceback(exc));
  PyErr_Display(reinterpret_cast<PyObject*>(Py_TYPE(exc)), exc, tb.get());
}

}  // namespace greenfork::wsgi
