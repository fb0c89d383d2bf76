#include "greenfork/wsgi/start_response.hpp"

#include <array>
#include <cstddef>
#include <new>
#include <string>
#include <vector>

#include <structmember.h>

#include "greenfork/wsgi/wsgi_response_head.hpp"

namespace greenfork::wsgi {
namespace {

struct WriterObject {
  PyObject_HEAD
  AppCall* exchange;
};

// What the last calls passed and was found valid, so that the same str
// objects (an app's constants: "200 OK", "Content-Type", "text/plain")
// are not parsed and checked again. Holds strong references: a str is
// immutable, so the same object means the same text.
struct Checked {
  static constexpr size_t kHeaderSlots = 16;
  PyObject* status = nullptr;
  int code = 0;
  std::array<PyObject*, kHeaderSlots> names{};   // by position in the list
  std::array<PyObject*, kHeaderSlots> values{};

  void clear() {
    Py_CLEAR(status);
    for (PyObject*& o : names) Py_CLEAR(o);
    for (PyObject*& o : values) Py_CLEAR(o);
  }
};

struct StartResponseObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  AppCall* exchange;
  PyObject* writer;  // owned
  Checked checked;  // constructed in place: no heap memory of its own
};

PyTypeObject* g_sr_type = nullptr;
PyTypeObject* g_writer_type = nullptr;

StartResponseObject* as_sr(PyObject* o) { return reinterpret_cast<StartResponseObject*>(o); }

bool reject(AppCall& ex, const std::string& message) {
  ex.host->log_error(message + " (answering 500; nothing of it is sent)");
  PyErr_SetString(PyExc_ValueError, message.c_str());
  return false;
}

// Remembers `o` (a str found valid) in `slot`.
void remember(PyObject*& slot, PyObject* o) {
  if (!PyUnicode_CheckExact(o)) return;  // a subclass could say anything
  Py_INCREF(o);
  Py_XSETREF(slot, o);
}

bool record_headers(AppCall& ex, PyObject* headers, Checked& checked) {
  if (!PyList_Check(headers) && !PyTuple_Check(headers)) {
    PyErr_Format(PyExc_TypeError, "response_headers must be a list, not %.100s",
                 Py_TYPE(headers)->tp_name);
    return false;
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
  PyObject** items = PySequence_Fast_ITEMS(headers);
  // The writer's buffer from an earlier response, when it kept one.
  std::vector<worker::Header> out = ex.out != nullptr ? ex.out->header_buffer()
                                                      : std::vector<worker::Header>();
  out.clear();
  out.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "response header %zd must be a (name, value) tuple", i);
      return false;
    }
    PyObject* name = PyTuple_GET_ITEM(item, 0);
    PyObject* value = PyTuple_GET_ITEM(item, 1);
    std::string_view name_text;
    std::string_view value_text;
    if (ascii_view(name, name_text) && ascii_view(value, value_text)) {
      out.push_back({std::string(name_text), std::string(value_text)});
    } else {
      worker::Header& h = out.emplace_back();
      if (!latin1_of(name, h.name, "a response header name")) return false;
      if (!latin1_of(value, h.value, "a response header value")) return false;
    }
    worker::Header& h = out.back();
    // Hop-by-hop headers go on: the engine drops them for every app kind
    // alike (PEP 3333 makes them the server's business), honouring close.
    const size_t slot = static_cast<size_t>(i);
    const bool known = slot < Checked::kHeaderSlots;
    if (!known || checked.names[slot] != name) {
      if (Status st = check_header_name(h.name); !st.ok()) return reject(ex, st.message());
      if (known) remember(checked.names[slot], name);
    }
    if (!known || checked.values[slot] != value) {
      if (Status st = check_header_value(h.name, h.value); !st.ok()) return reject(ex, st.message());
      if (known) remember(checked.values[slot], value);
    }
  }
  ex.headers = std::move(out);
  return true;
}

// start_response(status, response_headers, exc_info=None), called without
// an argument tuple (vectorcall): CPython calls it for every response.
bool parse_args(PyObject* const* args, size_t nargsf, PyObject* kwnames, PyObject* (&out)[3]) {
  static const char* const kNames[3] = {"status", "response_headers", "exc_info"};
  const Py_ssize_t npos = PyVectorcall_NARGS(nargsf);
  if (npos > 3) {
    PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)", npos);
    return false;
  }
  for (Py_ssize_t i = 0; i < npos; ++i) out[i] = args[i];
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    int which = -1;
    for (int j = 0; j < 3; ++j) {
      if (PyUnicode_CompareWithASCIIString(name, kNames[j]) == 0) which = j;
    }
    if (which < 0) {
      PyErr_Format(PyExc_TypeError, "start_response() got an unexpected keyword argument '%U'",
                   name);
      return false;
    }
    if (out[which] != nullptr) {
      PyErr_Format(PyExc_TypeError, "start_response() got multiple values for argument '%s'",
                   kNames[which]);
      return false;
    }
    out[which] = args[npos + k];
  }
  for (int j = 0; j < 2; ++j) {
    if (out[j] == nullptr) {
      PyErr_Format(PyExc_TypeError, "start_response() missing required argument '%s' (pos %d)",
                   kNames[j], j + 1);
      return false;
    }
  }
  if (out[2] == nullptr) out[2] = Py_None;
  return true;
}

PyObject* sr_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* a[3] = {nullptr, nullptr, nullptr};
  if (!parse_args(args, nargsf, kwnames, a)) return nullptr;
  PyObject* status = a[0];
  PyObject* headers = a[1];
  PyObject* exc_info = a[2];
  StartResponseObject* sr = as_sr(self);
  if (!sr->exchange) {
    PyErr_SetString(PyExc_RuntimeError, "start_response() called after its request ended");
    return nullptr;
  }
  AppCall& ex = *sr->exchange;
  if (exc_info != Py_None) {
    if (ex.started) {  // PEP 3333: too late to change the head, re-raise the app's error
      if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
        PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple");
        return nullptr;
      }
      PyObject* type = PyTuple_GET_ITEM(exc_info, 0);
      PyObject* value = PyTuple_GET_ITEM(exc_info, 1);
      PyObject* tb = PyTuple_GET_ITEM(exc_info, 2);
      if (tb == Py_None) tb = nullptr;
      Py_INCREF(type);
      Py_INCREF(value);
      Py_XINCREF(tb);
      PyErr_Restore(type, value, tb);
      return nullptr;
    }
  } else if (ex.start_called) {
    PyErr_SetString(PyExc_AssertionError,
                    "start_response() called again without exc_info (PEP 3333)");
    return nullptr;
  }
  Checked& checked = sr->checked;
  int code = 0;
  if (status == checked.status) {  // an ASCII str: the reason is its text past "NNN "
    code = checked.code;
    const Py_ssize_t len = PyUnicode_GET_LENGTH(status);
    const char* text = static_cast<const char*>(PyUnicode_DATA(status));
    ex.reason.assign(len > 4 ? text + 4 : text, len > 4 ? static_cast<size_t>(len - 4) : 0);
  } else {
    std::string status_text;
    if (!latin1_of(status, status_text, "status")) return nullptr;
    StatusOr<ParsedStatus> parsed = parse_status(status_text);
    if (!parsed.ok()) {
      reject(ex, parsed.status().message());
      return nullptr;
    }
    code = parsed->code;
    ex.reason = std::move(parsed->reason);
    if (PyUnicode_IS_ASCII(status)) remember(checked.status, status);
    if (checked.status == status) checked.code = code;  // (a str subclass is not kept)
  }
  if (!record_headers(ex, headers, checked)) return nullptr;
  ex.status_code = code;
  ex.start_called = true;
  Py_INCREF(sr->writer);
  return sr->writer;
}

PyObject* writer_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* data = nullptr;
  if ((kwargs && PyDict_Size(kwargs) != 0) || !PyArg_UnpackTuple(args, "write", 1, 1, &data)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "write() takes one bytes argument");
    return nullptr;
  }
  AppCall* ex = reinterpret_cast<WriterObject*>(self)->exchange;
  if (!ex) {
    PyErr_SetString(PyExc_RuntimeError, "write() called after its request ended");
    return nullptr;
  }
  if (PyBytes_Check(data)) {
    if (!ex->write_body(PyBytes_AS_STRING(data), static_cast<size_t>(PyBytes_GET_SIZE(data)))) {
      return nullptr;
    }
    Py_RETURN_NONE;
  }
  Py_buffer view;
  if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
    PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %.100s",
                 Py_TYPE(data)->tp_name);
    return nullptr;
  }
  bool ok = ex->write_body(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  if (!ok) return nullptr;
  Py_RETURN_NONE;
}

void writer_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

void sr_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(as_sr(self)->writer);
  as_sr(self)->checked.clear();
  as_sr(self)->checked.~Checked();
  type->tp_free(self);
  Py_DECREF(type);
}

PyMemberDef g_sr_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET,
     static_cast<Py_ssize_t>(offsetof(StartResponseObject, vectorcall)), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot g_sr_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(sr_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_members, g_sr_members},
    {Py_tp_doc, const_cast<char*>("start_response(status, response_headers, exc_info=None)")},
    {0, nullptr},
};
PyType_Spec g_sr_spec = {"greenfork.StartResponse", sizeof(StartResponseObject), 0,
                         Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                             Py_TPFLAGS_HAVE_VECTORCALL,
                         g_sr_slots};

PyType_Slot g_writer_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(writer_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(writer_call)},
    {Py_tp_doc, const_cast<char*>("write(data): response body bytes (PEP 3333)")},
    {0, nullptr},
};
PyType_Spec g_writer_spec = {"greenfork.Write", sizeof(WriterObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                             g_writer_slots};

}  // namespace

bool start_response_init_types() {
  if (g_sr_type) return true;
  g_writer_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_writer_spec));
  if (!g_writer_type) return false;
  g_sr_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_sr_spec));
  return g_sr_type != nullptr;
}

PyObject* start_response_new() {
  WriterObject* writer = PyObject_New(WriterObject, g_writer_type);
  if (!writer) return nullptr;
  writer->exchange = nullptr;
  StartResponseObject* sr = PyObject_New(StartResponseObject, g_sr_type);
  if (!sr) {
    Py_DECREF(writer);
    return nullptr;
  }
  sr->vectorcall = sr_vectorcall;
  sr->exchange = nullptr;
  sr->writer = reinterpret_cast<PyObject*>(writer);
  new (&sr->checked) Checked();
  return reinterpret_cast<PyObject*>(sr);
}

void start_response_attach(PyObject* start_response, AppCall* exchange) {
  StartResponseObject* sr = as_sr(start_response);
  sr->exchange = exchange;
  reinterpret_cast<WriterObject*>(sr->writer)->exchange = exchange;
}

void start_response_detach(PyObject* start_response) { start_response_attach(start_response, nullptr); }

bool start_response_reusable(PyObject* start_response) {
  return Py_REFCNT(start_response) == 1 && Py_REFCNT(as_sr(start_response)->writer) == 1;
}

}  // namespace greenfork::wsgi
