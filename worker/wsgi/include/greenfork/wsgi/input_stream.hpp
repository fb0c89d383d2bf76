// wsgi.input: a stream over the request body (PEP 3333): read(n), read(),
// readline(n), readlines(hint), iteration. Reads go to BodyReader with the
// GIL released; nothing is buffered beyond what readline() needs, so large
// bodies stream through.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <cstdint>
#include <optional>

#include "greenfork/wsgi/app_call.hpp"

namespace greenfork::wsgi {

// With the GIL, once: creates the type.
bool input_stream_init_type();
// A new, detached stream (new reference).
PyObject* input_stream_new();
// Points the stream at one request's body. content_length bounds the reads
// when known.
void input_stream_attach(PyObject* stream, worker::BodyReader* body, AppCall* exchange,
                         std::optional<uint64_t> content_length);
// The request is over: later reads raise ValueError.
void input_stream_detach(PyObject* stream);

}  // namespace greenfork::wsgi
