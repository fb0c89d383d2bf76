// `_greenfork_asgi_native`: what the embedded protocol (protocol.cpp) calls
// on the loop thread.
//
//   take_events() -> [(kind, handle, ok)]   kind: 0 submit, 1 io_done,
//                                           2 disconnected, 3 stop
//   started(ok, message)                    the lifespan startup's outcome
//   log(level, message)                     0 debug, 1 info, 2 warning, 3 error
//   Exchange (the handle of one request; `owner` is the protocol's own slot):
//     scope(state) -> dict                  build_http_scope()
//     take_body(max) -> (bytes, end)        raises ConnectionError: body broken
//     want_body()                           posts; io_done follows
//     start(status, headers)                raises TypeError/ValueError
//     send(data)                            posts; io_done follows
//     finish(data) / fail() / abort()       the last call
//     ws_scope, ws_accept, ws_send, ws_blocked, ws_take, ws_want,
//     ws_close, ws_fail, ws_done (last)     a WebSocket's (AsyncWebSocket)
#pragma once

#include "greenfork/wsgi/py.hpp"

#include "greenfork/worker/app.hpp"

namespace greenfork::asgi {

class AsgiApplication;

// GIL held. Creates (once) and imports the module, bound to `app`.
PyObject* native_module(AsgiApplication* app);

// GIL held. A new handle for `exchange` (a new reference).
PyObject* exchange_handle_new(worker::AsyncExchange* exchange);
// GIL held. A new handle for a WebSocket (its ws_* methods).
PyObject* websocket_handle_new(worker::AsyncWebSocket* ws);
// GIL held. The exchange behind an Exchange handle, or nullptr with an
// exception set (not a handle, or its response is complete).
worker::AsyncExchange* exchange_of(PyObject* handle);

}  // namespace greenfork::asgi
