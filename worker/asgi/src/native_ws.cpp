// The ws_* methods of a handle (handle.hpp): what the ASGI protocol's
// WebSocket part (ws_protocol.cpp) calls on an AsyncWebSocket.
#include "handle.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "greenfork/asgi/asgi_application.hpp"
#include "greenfork/asgi/scope.hpp"

namespace greenfork::asgi {
namespace {

bool ws_live(Handle* h) {
  if (h->ws != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "the WebSocket is already done");
  return false;
}

}  // namespace

PyObject* ws_scope(Handle* h, PyObject* state) {
  if (!ws_live(h)) return nullptr;
  return build_websocket_scope(h->ws->head(), h->ws->subprotocols(), g_app->scope_constants(),
                               state == Py_None ? nullptr : state);
}

PyObject* ws_accept(Handle* h, PyObject* args) {
  PyObject* subprotocol = nullptr;
  PyObject* headers = nullptr;
  if (!PyArg_ParseTuple(args, "OO", &subprotocol, &headers) || !ws_live(h)) return nullptr;
  std::optional<std::string> chosen;
  if (subprotocol != Py_None) {
    const char* s = PyUnicode_AsUTF8(subprotocol);
    if (s == nullptr) return nullptr;
    chosen = s;
  }
  std::vector<worker::Header> list;
  if (!header_list(headers, list)) return nullptr;
  h->ws->accept(std::move(chosen), std::move(list));
  Py_RETURN_NONE;
}

PyObject* ws_send(Handle* h, PyObject* data) {
  if (!ws_live(h)) return nullptr;
  if (PyUnicode_Check(data)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(data, &n);
    if (s == nullptr) return nullptr;
    h->ws->send_message(true, std::string(s, static_cast<size_t>(n)));
    Py_RETURN_NONE;
  }
  Py_buffer view;
  if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) return nullptr;
  h->ws->send_message(false, std::string(static_cast<const char*>(view.buf),
                                         static_cast<size_t>(view.len)));
  PyBuffer_Release(&view);
  Py_RETURN_NONE;
}

PyObject* ws_blocked(Handle* h, PyObject*) {
  if (!ws_live(h)) return nullptr;
  return PyLong_FromLong(h->ws->send_state());
}

PyObject* ws_take(Handle* h, PyObject*) {
  if (!ws_live(h)) return nullptr;
  worker::AsyncWebSocket::Message m = h->ws->take_message();
  const Py_ssize_t n = static_cast<Py_ssize_t>(m.data.size());
  switch (m.kind) {
    case worker::AsyncWebSocket::Message::kText:
      return Py_BuildValue("(iN)", 1, PyUnicode_DecodeUTF8(m.data.data(), n, "replace"));
    case worker::AsyncWebSocket::Message::kBinary:
      return Py_BuildValue("(iN)", 2, PyBytes_FromStringAndSize(m.data.data(), n));
    case worker::AsyncWebSocket::Message::kClosed:
      return Py_BuildValue("(i(iN))", 3, static_cast<int>(m.code),
                           PyUnicode_DecodeUTF8(m.reason.data(),
                                                static_cast<Py_ssize_t>(m.reason.size()), "replace"));
    default:
      return Py_BuildValue("(iO)", 0, Py_None);
  }
}

PyObject* ws_want(Handle* h, PyObject*) {
  if (!ws_live(h)) return nullptr;
  h->ws->want_message();
  Py_RETURN_NONE;
}

PyObject* ws_close(Handle* h, PyObject* args) {
  int code = 1000;
  const char* reason = "";
  if (!PyArg_ParseTuple(args, "is", &code, &reason) || !ws_live(h)) return nullptr;
  h->ws->close(static_cast<uint16_t>(code), reason);
  Py_RETURN_NONE;
}

PyObject* ws_deny(Handle* h, PyObject* args) {
  int status = 0;
  PyObject* headers = nullptr;
  Py_buffer body;
  if (!PyArg_ParseTuple(args, "iOy*", &status, &headers, &body)) return nullptr;
  std::string bytes(static_cast<const char*>(body.buf), static_cast<size_t>(body.len));
  PyBuffer_Release(&body);
  if (!ws_live(h)) return nullptr;
  std::vector<worker::Header> list;
  if (!header_list(headers, list)) return nullptr;
  h->ws->deny(status, std::move(list), std::move(bytes));
  Py_RETURN_NONE;
}

PyObject* ws_fail(Handle* h, PyObject*) {
  if (!ws_live(h)) return nullptr;
  h->ws->fail();
  Py_RETURN_NONE;
}

PyObject* ws_done(Handle* h, PyObject*) {
  if (!ws_live(h)) return nullptr;
  h->ws->done();
  release(h);
  Py_RETURN_NONE;
}

}  // namespace greenfork::asgi
