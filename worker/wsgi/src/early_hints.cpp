#include "greenfork/wsgi/early_hints.hpp"

#include <string>
#include <vector>

#include "engine_call.hpp"

namespace greenfork::wsgi {
namespace {

struct EarlyHintsObject {
  PyObject_HEAD
  AppCall* exchange;
};

PyTypeObject* g_type = nullptr;

// A header name or value: str (latin-1, PEP 3333's native string) or bytes.
bool text_of(PyObject* o, std::string& out, const char* what) {
  if (PyBytes_Check(o)) {
    out.assign(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
    return true;
  }
  return latin1_of(o, out, what);
}

bool collect(PyObject* headers, std::vector<worker::Header>& out) {
  if (!PyList_Check(headers) && !PyTuple_Check(headers)) {
    PyErr_Format(PyExc_TypeError, "early hints must be a list of (name, value) tuples, not %.100s",
                 Py_TYPE(headers)->tp_name);
    return false;
  }
  PyRef fast(PySequence_Fast(headers, "early hints must be a list"));
  if (!fast) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.get());
  PyObject** items = PySequence_Fast_ITEMS(fast.get());
  out.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "early hint %zd must be a (name, value) tuple", i);
      return false;
    }
    worker::Header& h = out.emplace_back();
    if (!text_of(PyTuple_GET_ITEM(item, 0), h.name, "an early hint header name") ||
        !text_of(PyTuple_GET_ITEM(item, 1), h.value, "an early hint header value")) {
      return false;
    }
  }
  return true;
}

PyObject* hints_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* headers = nullptr;
  if ((kwargs && PyDict_Size(kwargs) != 0) ||
      !PyArg_UnpackTuple(args, "early_hints", 1, 1, &headers)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "early_hints() takes one list of headers");
    return nullptr;
  }
  AppCall* ex = reinterpret_cast<EarlyHintsObject*>(self)->exchange;
  if (!ex) {
    PyErr_SetString(PyExc_RuntimeError, "wsgi.early_hints called after its request ended");
    return nullptr;
  }
  std::vector<worker::Header> list;
  if (!collect(headers, list)) return nullptr;
  // Once the head went out a 103 would come after the final response.
  StatusOr<bool> sent = false;
  if (!call_engine(ex, "early hints failed",
                   [&] { sent = ex->out->send_early_hints(std::move(list)); })) {
    return nullptr;
  }
  if (!sent.ok()) {
    PyErr_Format(PyExc_ValueError, "early hints: %s", sent.status().message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

void hints_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(hints_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(hints_call)},
    {Py_tp_doc, const_cast<char*>("early_hints(headers): send 103 Early Hints (RFC 8297)")},
    {0, nullptr},
};
PyType_Spec g_spec = {"greenfork.EarlyHints", sizeof(EarlyHintsObject), 0,
                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, g_slots};

}  // namespace

bool early_hints_init_type() {
  if (g_type) return true;
  g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_spec));
  return g_type != nullptr;
}

PyObject* early_hints_new() {
  EarlyHintsObject* o = PyObject_New(EarlyHintsObject, g_type);
  if (!o) return nullptr;
  o->exchange = nullptr;
  return reinterpret_cast<PyObject*>(o);
}

void early_hints_attach(PyObject* early_hints, AppCall* exchange) {
  reinterpret_cast<EarlyHintsObject*>(early_hints)->exchange = exchange;
}

}  // namespace greenfork::wsgi
