// describe_load_failure(): the pending exception of a failed app load.
#include "greenfork/wsgi/load_failure.hpp"

namespace greenfork::wsgi {
namespace {

std::string str_of(PyObject* o) {
  PyRef s(o ? PyObject_Str(o) : nullptr);
  const char* c = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
  if (!c) {
    PyErr_Clear();
    return "";
  }
  return c;
}

}  // namespace

LoadFailure describe_load_failure(PyObject* helper, const std::string& spec) {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb) PyException_SetTraceback(value, tb);
  PyRef t(type), v(value), trace(tb);
  LoadFailure f;
  PyRef text(helper && v ? PyObject_CallMethod(helper, "format_exception", "O", v.get())
                               : nullptr);
  f.traceback = text ? str_of(text.get()) : "";
  PyErr_Clear();
  PyRef load_error(helper ? PyObject_GetAttrString(helper, "AppLoadError") : nullptr);
  PyErr_Clear();
  if (load_error && v && PyObject_IsInstance(v.get(), load_error.get()) == 1) {
    f.message = str_of(v.get());
  } else {
    const char* name = t ? reinterpret_cast<PyTypeObject*>(t.get())->tp_name : "error";
    f.message = "Failed to load application '" + spec + "': " + name + ": " + str_of(v.get());
  }
  PyErr_Clear();
  PyRef files(helper && v ? PyObject_CallMethod(helper, "traceback_files", "O", v.get())
                                : nullptr);
  if (files && PyList_Check(files.get())) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(files.get()); ++i) {
      if (const char* s = PyUnicode_AsUTF8(PyList_GET_ITEM(files.get(), i))) f.files.emplace_back(s);
    }
  }
  PyErr_Clear();
  return f;
}

}  // namespace greenfork::wsgi
