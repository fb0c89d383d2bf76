// The Python handle of one exchange or WebSocket (`_greenfork_asgi_native`
// .Exchange), shared by native_module.cpp (the module, HTTP methods) and
// native_ws.cpp (the ws_* methods). Loop thread, GIL held.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::asgi {

class AsgiApplication;

struct Handle {
  PyObject_HEAD
  worker::AsyncExchange* exchange;  // null after the last call
  PyObject* owner;                  // the protocol's per-request object
  worker::AsyncWebSocket* ws;       // a WebSocket's handle instead; null after done()
  PyObject* body_buf;               // bytes a posted body read fills (want_body_into)
};

// The app the module is bound to (native_module()).
extern AsgiApplication* g_app;

// The last call on a handle: the exchange or WebSocket belongs to the
// engine again.
void release(Handle* h);

// [[name, value], ...] of bytes -> Headers (false: exception set).
bool header_list(PyObject* headers, std::vector<worker::Header>& list);

// The ws_* methods of a WebSocket's handle (native_ws.cpp).
PyObject* ws_scope(Handle* h, PyObject* state);
PyObject* ws_accept(Handle* h, PyObject* args);
PyObject* ws_send(Handle* h, PyObject* data);
PyObject* ws_blocked(Handle* h, PyObject*);
PyObject* ws_take(Handle* h, PyObject*);
PyObject* ws_want(Handle* h, PyObject*);
PyObject* ws_close(Handle* h, PyObject* args);
PyObject* ws_deny(Handle* h, PyObject* args);
PyObject* ws_fail(Handle* h, PyObject*);
PyObject* ws_done(Handle* h, PyObject*);

}  // namespace greenfork::asgi
