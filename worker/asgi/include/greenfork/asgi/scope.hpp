// The ASGI HTTP connection scope (asgi.readthedocs.io, "HTTP & WebSocket
// ASGI Message Format", spec_version 2.4) built from the engine's Request.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::asgi {

// "%2Fa%20b" -> "/a b": %XX escapes turned into their bytes; a '%' not
// followed by two hex digits is kept as it is (as urllib.parse.unquote).
std::string percent_decode(std::string_view text);

// What every scope of this worker shares (created once, GIL held).
struct ScopeConstants {
  wsgi::PyRef root_path;  // str, from --root-path
};

// GIL held. A new scope dict: type, asgi {version, spec_version},
// http_version, method, scheme, path (percent-decoded, UTF-8 with
// replacement), raw_path, query_string, root_path, headers (lowercase
// names, in order, as (bytes, bytes) tuples), client, server, and `state`
// (a shallow copy of the lifespan state; omitted when null), `extensions`
// {"http.response.pathsend": {}, "http.response.trailers": {}}. nullptr with
// an exception set on failure.
PyObject* build_http_scope(const worker::Request& request, const ScopeConstants& constants,
                           PyObject* state);

// GIL held. The websocket scope: as the HTTP one with type "websocket",
// scheme ws/wss (the request's url_scheme), no method, and `subprotocols`
// (the client's Sec-WebSocket-Protocol offers, in order), and `extensions`
// {"websocket.http.response": {}} (the denial response).
PyObject* build_websocket_scope(const worker::Request& request,
                                const std::vector<std::string>& subprotocols,
                                const ScopeConstants& constants, PyObject* state);

}  // namespace greenfork::asgi
