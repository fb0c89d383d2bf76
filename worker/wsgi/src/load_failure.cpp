// describe_load_failure(): the pending exception of a failed app load.
#include "greenfork/wsgi/load_failure.hpp"

#include "greenfork/wsgi/py_error.hpp"

namespace greenfork::wsgi {

LoadFailure describe_load_failure(PyObject* helper, const std::string& spec) {
  PyRef v = take_exception();
  LoadFailure f;
  PyRef text(helper && v ? PyObject_CallMethod(helper, "format_exception", "O", v.get())
                               : nullptr);
  f.traceback = text ? exception_str(text.get()) : "";
  PyErr_Clear();
  PyRef load_error(helper ? PyObject_GetAttrString(helper, "AppLoadError") : nullptr);
  PyErr_Clear();
  if (load_error && v && PyObject_IsInstance(v.get(), load_error.get()) == 1) {
    f.message = exception_str(v.get());
  } else {
    const char* name = v ? Py_TYPE(v.get())->tp_name : "error";
    f.message = "Failed to load application '" + spec + "': " + name + ": " + exception_str(v.get());
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
