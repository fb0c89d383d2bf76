// The ASGI protocol as embedded Python (module "_greenfork_asgi"): the
// request/response cycle (receive/send), the lifespan, the loop's reader.
//
//   serve(app, efd, loop, lifespan) runs the loop thread's whole life:
//     makes the loop (uvloop when asked or available), runs the lifespan
//     startup, reports it with native.started(), then serves batches
//     (loop.add_reader(efd)) until a stop event, which runs the lifespan
//     shutdown once the engine has finished every request.
#pragma once

#include "greenfork/wsgi/py.hpp"

namespace greenfork::asgi {

// GIL held. The module (borrowed, cached), or nullptr with an exception.
PyObject* protocol_module();

// The lifespan, WebSocket and ASGI 2 parts of the module's source
// (lifespan_protocol.cpp, ws_protocol.cpp, asgi2_compat.cpp).
extern const char* const kLifespanSource;
extern const char* const kWebSocketSource;
extern const char* const kAsgi2Source;

}  // namespace greenfork::asgi
