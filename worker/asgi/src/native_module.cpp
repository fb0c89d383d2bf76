#include "native_module.hpp"

#include <structmember.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "greenfork/asgi/asgi_application.hpp"
#include "handle.hpp"

namespace greenfork::asgi {

AsgiApplication* g_app = nullptr;

namespace {

PyTypeObject* g_handle_type = nullptr;

// A header name or value, which must be bytes (false: exception set).
bool header_bytes(PyObject* o, std::string& out) {
  if (!PyBytes_Check(o)) {
    PyErr_Format(PyExc_TypeError, "ASGI header names and values must be bytes, not %s",
                 Py_TYPE(o)->tp_name);
    return false;
  }
  out.assign(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
  return true;
}

// The largest body block read straight into a bytes object: one
// http.request message, one round trip to the I/O thread. 1 MiB: a 1 MiB
// upload took 3.7 thread switches per request, against 7.5 with 256 KiB
// blocks, and 12% less CPU.
constexpr size_t kDirectBlock = 1024 * 1024;

}  // namespace

// The last call on a handle: the exchange belongs to the engine again.
void release(Handle* h) {
  const void* x = h->exchange != nullptr ? static_cast<const void*>(h->exchange)
                                         : static_cast<const void*>(h->ws);
  h->exchange = nullptr;
  h->ws = nullptr;
  Py_CLEAR(h->body_buf);  // no read is outstanding after the last call
  // No event reaches the owner any more: break the handle <-> Cycle cycle
  // so both go by reference counting, not by the cyclic GC.
  Py_CLEAR(h->owner);
  g_app->forget(x);  // drops the map's reference (h stays alive: the caller holds one)
}

bool header_list(PyObject* headers, std::vector<worker::Header>& list) {
  wsgi::PyRef it(PyObject_GetIter(headers));
  if (!it) return false;
  while (PyObject* item = PyIter_Next(it.get())) {
    wsgi::PyRef pair(PySequence_Fast(item, "an ASGI header must be a [name, value] pair"));
    Py_DECREF(item);
    if (!pair) return false;
    if (PySequence_Fast_GET_SIZE(pair.get()) != 2) {
      PyErr_SetString(PyExc_ValueError, "an ASGI header must be a [name, value] pair");
      return false;
    }
    worker::Header header;
    if (!header_bytes(PySequence_Fast_GET_ITEM(pair.get(), 0), header.name) ||
        !header_bytes(PySequence_Fast_GET_ITEM(pair.get(), 1), header.value)) {
      return false;
    }
    list.push_back(std::move(header));
  }
  return PyErr_Occurred() == nullptr;
}

namespace {

bool live(Handle* h) {
  if (h->exchange != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "the response is already complete");
  return false;
}

PyObject* handle_scope(Handle* h, PyObject* state) {
  if (!live(h)) return nullptr;
  return build_http_scope(h->exchange->head(), g_app->scope_constants(),
                          state == Py_None ? nullptr : state);
}

// The block a want_body_into() read filled, as (bytes, end); null with no
// error set when it got nothing.
PyObject* take_direct(Handle* h) {
  PyObject* b = h->body_buf;
  h->body_buf = nullptr;
  const size_t n = h->exchange->take_direct();
  if (n == 0) {
    Py_DECREF(b);
    return nullptr;
  }
  if (n != static_cast<size_t>(PyBytes_GET_SIZE(b)) &&
      _PyBytes_Resize(&b, static_cast<Py_ssize_t>(n)) != 0) {
    return nullptr;
  }
  bool end = false;
  if (h->exchange->body_ready() == 0) {
    try {
      (void)h->exchange->take_body(nullptr, 0, end);
    } catch (const worker::ClientGone&) {
      end = false;  // the next read reports it, after these bytes
    }
  }
  return Py_BuildValue("(NO)", b, end ? Py_True : Py_False);
}

PyObject* handle_take_body(Handle* h, PyObject* arg) {
  if (!live(h)) return nullptr;
  if (h->body_buf != nullptr) {
    if (PyObject* got = take_direct(h); got != nullptr || PyErr_Occurred()) return got;
  }
  Py_ssize_t max = PyLong_AsSsize_t(arg);
  if (max < 0) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "max must be >= 0");
    return nullptr;
  }
  // Only what is there: a big allocation shrunk per small read costs an
  // mmap and page faults each time.
  max = static_cast<Py_ssize_t>(std::min<uint64_t>(static_cast<uint64_t>(max),
                                                   h->exchange->body_ready()));
  wsgi::PyRef bytes(PyBytes_FromStringAndSize(nullptr, max));
  if (!bytes) return nullptr;
  bool end = false;
  size_t n = 0;
  try {
    n = h->exchange->take_body(PyBytes_AS_STRING(bytes.get()), static_cast<size_t>(max), end);
  } catch (const worker::ClientGone& e) {
    PyErr_SetString(PyExc_ConnectionError, e.what());
    return nullptr;
  }
  if (n != static_cast<size_t>(max)) {
    PyObject* b = bytes.release();
    if (_PyBytes_Resize(&b, static_cast<Py_ssize_t>(n)) != 0) return nullptr;
    bytes = wsgi::PyRef(b);
  }
  return Py_BuildValue("(NO)", bytes.release(), end ? Py_True : Py_False);
}

PyObject* handle_want_body(Handle* h, PyObject*) {
  if (!live(h)) return nullptr;
  if (const size_t room = h->exchange->direct_body_room(kDirectBlock); room > 0) {
    // The bytes object the app gets, filled by the I/O thread's recv().
    PyObject* buf = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(room));
    if (buf == nullptr) return nullptr;
    Py_XSETREF(h->body_buf, buf);
    h->exchange->want_body_into(PyBytes_AS_STRING(buf), room);
    Py_RETURN_NONE;
  }
  h->exchange->want_body();
  Py_RETURN_NONE;
}


PyObject* handle_start(Handle* h, PyObject* args) {
  int status = 0;
  PyObject* headers = nullptr;
  if (!PyArg_ParseTuple(args, "iO", &status, &headers) || !live(h)) return nullptr;
  std::vector<worker::Header> list;
  if (!header_list(headers, list)) return nullptr;
  if (Status s = h->exchange->start(status, std::move(list)); !s.ok()) {
    PyErr_SetString(PyExc_ValueError, s.message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* handle_send(Handle* h, PyObject* arg) {
  if (!live(h)) return nullptr;
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return nullptr;
  h->exchange->send(std::string_view(static_cast<const char*>(view.buf),
                                     static_cast<size_t>(view.len)));
  PyBuffer_Release(&view);
  Py_RETURN_NONE;
}

// (headers) -> True when a 103 was posted (io_done follows), False when
// nothing is sent (HTTP/1.0, uwsgi); ValueError for a bad header.
PyObject* handle_early_hints(Handle* h, PyObject* headers) {
  std::vector<worker::Header> list;
  if (!live(h) || !header_list(headers, list)) return nullptr;
  StatusOr<bool> posted = false;
  try {
    posted = h->exchange->early_hints(std::move(list));
  } catch (const worker::ClientGone& e) {
    PyErr_SetString(PyExc_ConnectionError, e.what());
    return nullptr;
  }
  if (!posted.ok()) return PyErr_Format(PyExc_ValueError, "%s", posted.status().message().c_str());
  return PyBool_FromLong(*posted);
}

PyObject* handle_finish(Handle* h, PyObject* arg) {
  if (!live(h)) return nullptr;
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return nullptr;
  h->exchange->finish(std::string_view(static_cast<const char*>(view.buf),
                                       static_cast<size_t>(view.len)));
  PyBuffer_Release(&view);
  release(h);
  Py_RETURN_NONE;
}

PyObject* handle_pathsend(Handle* h, PyObject* args) {
  int fd = -1;
  unsigned long long size = 0;
  if (!PyArg_ParseTuple(args, "iK", &fd, &size) || !live(h)) return nullptr;
  if (Status s = h->exchange->pathsend(fd, size); !s.ok()) {
    PyErr_SetString(PyExc_RuntimeError, s.message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* handle_declare_trailers(Handle* h, PyObject* names) {
  if (!live(h)) return nullptr;
  std::string text;
  if (!header_bytes(names, text)) return nullptr;
  if (Status s = h->exchange->declare_trailers(text); !s.ok()) {
    PyErr_SetString(PyExc_ValueError, s.message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* handle_finish_trailers(Handle* h, PyObject* headers) {
  if (!live(h)) return nullptr;
  std::vector<worker::Header> list;
  if (!header_list(headers, list)) return nullptr;
  if (Status s = h->exchange->finish_trailers(std::move(list)); !s.ok()) {
    PyErr_SetString(PyExc_ValueError, s.message().c_str());
    return nullptr;
  }
  release(h);
  Py_RETURN_NONE;
}

PyObject* handle_fail(Handle* h, PyObject*) {
  if (!live(h)) return nullptr;
  h->exchange->fail();
  release(h);
  Py_RETURN_NONE;
}

PyObject* handle_abort(Handle* h, PyObject*) {
  if (!live(h)) return nullptr;
  h->exchange->abort_response();
  release(h);
  Py_RETURN_NONE;
}

void handle_dealloc(Handle* h) {
  PyTypeObject* type = Py_TYPE(h);
  PyObject_GC_UnTrack(h);
  Py_CLEAR(h->owner);
  Py_CLEAR(h->body_buf);
  PyObject_GC_Del(h);
  Py_DECREF(type);
}

int handle_traverse(Handle* h, visitproc visit, void* arg) {
  Py_VISIT(h->owner);
  Py_VISIT(Py_TYPE(h));
  return 0;
}

int handle_clear(Handle* h) {
  Py_CLEAR(h->owner);
  return 0;
}

PyMethodDef handle_methods[] = {
    {"scope", wsgi::as_method(handle_scope), METH_O, "the HTTP scope, with a copy of state"},
    {"take_body", wsgi::as_method(handle_take_body), METH_O, "(bytes, end) already received"},
    {"want_body", wsgi::as_method(handle_want_body), METH_NOARGS, "post: read more body"},
    {"start", wsgi::as_method(handle_start), METH_VARARGS, "status and headers"},
    {"send", wsgi::as_method(handle_send), METH_O, "post: body bytes"},
    {"early_hints", wsgi::as_method(handle_early_hints), METH_O, "post: a 103; False: not sent"},
    {"finish", wsgi::as_method(handle_finish), METH_O, "last: the response is complete"},
    {"pathsend", wsgi::as_method(handle_pathsend), METH_VARARGS, "post: (fd, size) the body, by sendfile"},
    {"declare_trailers", wsgi::as_method(handle_declare_trailers), METH_O, "the Trailer header's value"},
    {"finish_trailers", wsgi::as_method(handle_finish_trailers), METH_O, "last: the trailer fields"},
    {"fail", wsgi::as_method(handle_fail), METH_NOARGS, "last: 500, or close if committed"},
    {"abort", wsgi::as_method(handle_abort), METH_NOARGS, "last: close the connection"},
    {"ws_scope", wsgi::as_method(ws_scope), METH_O, "the websocket scope, with a copy of state"},
    {"ws_accept", wsgi::as_method(ws_accept), METH_VARARGS, "(subprotocol, headers): the 101"},
    {"ws_send", wsgi::as_method(ws_send), METH_O, "str: text message, bytes: binary"},
    {"ws_blocked", wsgi::as_method(ws_blocked), METH_NOARGS, "0 go on, 1 wait for a wake, 2 closed"},
    {"ws_take", wsgi::as_method(ws_take), METH_NOARGS, "(kind, data): 0 none, 1 text, 2 bytes, 3 closed"},
    {"ws_want", wsgi::as_method(ws_want), METH_NOARGS, "a wake when a message comes"},
    {"ws_close", wsgi::as_method(ws_close), METH_VARARGS, "(code, reason)"},
    {"ws_deny", wsgi::as_method(ws_deny), METH_VARARGS, "(status, headers, body): an HTTP response instead of the 101"},
    {"ws_fail", wsgi::as_method(ws_fail), METH_NOARGS, "500 before accept, 1011 after"},
    {"ws_done", wsgi::as_method(ws_done), METH_NOARGS, "last: the app is done"},
    {nullptr, nullptr, 0, nullptr}};

PyMemberDef handle_members[] = {
    {"owner", T_OBJECT, offsetof(Handle, owner), 0, "the protocol's object for this request"},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot handle_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(handle_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(handle_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(handle_clear)},
    {Py_tp_methods, handle_methods},
    {Py_tp_members, handle_members},
    {0, nullptr}};

PyType_Spec handle_spec = {"_greenfork_asgi_native.Exchange", sizeof(Handle), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, handle_slots};

PyObject* take_events(PyObject*, PyObject*) { return g_app->take_events(); }

PyObject* started(PyObject*, PyObject* args) {
  int ok = 0;
  const char* message = "";
  if (!PyArg_ParseTuple(args, "ps", &ok, &message)) return nullptr;
  g_app->report_started(ok != 0, message);
  Py_RETURN_NONE;
}

PyObject* log(PyObject*, PyObject* args) {
  int level = 0;
  const char* message = "";
  if (!PyArg_ParseTuple(args, "is", &level, &message)) return nullptr;
  switch (level) {
    case 0: spdlog::debug("{}", message); break;
    case 1: spdlog::info("{}", message); break;
    case 2: spdlog::warn("{}", message); break;
    default: g_app->host().log_error(message); break;
  }
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"take_events", take_events, METH_NOARGS, "the events of one batch"},
    {"started", started, METH_VARARGS, "the lifespan startup's outcome"},
    {"log", log, METH_VARARGS, "a line for gworker's error log"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_greenfork_asgi_native", nullptr, -1,
                          module_methods, nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyObject* native_module(AsgiApplication* app) {
  g_app = app;
  static PyObject* module = nullptr;
  if (module != nullptr) return module;
  wsgi::PyRef m(PyModule_Create(&module_def));
  if (!m) return nullptr;
  PyObject* type = PyType_FromSpec(&handle_spec);
  if (type == nullptr) return nullptr;
  g_handle_type = reinterpret_cast<PyTypeObject*>(type);
  if (PyModule_AddObject(m.get(), "Exchange", Py_NewRef(type)) != 0) return nullptr;
  PyObject* modules = PyImport_GetModuleDict();
  if (PyDict_SetItemString(modules, "_greenfork_asgi_native", m.get()) != 0) return nullptr;
  module = m.release();
  return module;
}

PyObject* exchange_handle_new(worker::AsyncExchange* exchange) {
  Handle* h = PyObject_GC_New(Handle, g_handle_type);
  if (h == nullptr) return nullptr;
  h->exchange = exchange;
  h->owner = nullptr;
  h->ws = nullptr;
  h->body_buf = nullptr;
  PyObject_GC_Track(h);
  return reinterpret_cast<PyObject*>(h);
}

PyObject* websocket_handle_new(worker::AsyncWebSocket* ws) {
  Handle* h = PyObject_GC_New(Handle, g_handle_type);
  if (h == nullptr) return nullptr;
  h->exchange = nullptr;
  h->owner = nullptr;
  h->ws = ws;
  h->body_buf = nullptr;
  PyObject_GC_Track(h);
  return reinterpret_cast<PyObject*>(h);
}

worker::AsyncExchange* exchange_of(PyObject* handle) {
  if (g_handle_type == nullptr || !PyObject_TypeCheck(handle, g_handle_type)) {
    PyErr_SetString(PyExc_TypeError, "not an exchange handle");
    return nullptr;
  }
  Handle* h = reinterpret_cast<Handle*>(handle);
  return live(h) ? h->exchange : nullptr;
}

}  // namespace greenfork::asgi
