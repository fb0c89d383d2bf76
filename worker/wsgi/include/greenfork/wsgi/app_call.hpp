// One request/response between the gateway and a WSGI app: what
// start_response() recorded, whether the head went out, whether the
// client went away. Lives on the app thread's stack for one handle() call;
// the Python objects of the request (start_response, write, wsgi.input)
// point to it until the request ends.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

struct AppCall {
  worker::ResponseWriter* out = nullptr;
  worker::WorkerHost* host = nullptr;

  bool start_called = false;  // start_response() accepted a status
  bool started = false;       // ResponseWriter::start() done (head committed to)
  bool wrote_body = false;    // a body byte went to ResponseWriter: no 500 possible
  std::optional<uint64_t> declared_length;  // the app's Content-Length
  uint64_t body_written = 0;
  int status_code = 0;
  std::string reason;
  std::vector<worker::Header> headers;
  // Set when a post_request hook wants the headers sent (begin_response()
  // copies them here); null otherwise.
  std::unique_ptr<std::vector<worker::Header>> sent_headers;

  bool client_gone = false;
  std::string client_gone_reason;

  // GIL held. Starts the response if needed, then writes `len` bytes with the
  // GIL released, and flushes them unless the declared Content-Length is
  // complete (the next step is finish()): PEP 3333 forbids delaying a block.
  // false with a Python exception set on failure.
  bool write_body(const char* data, size_t len);
  // GIL held. ResponseWriter::start() with what start_response() recorded,
  // once. false with a Python exception set on failure.
  bool begin_response();
  // GIL held. Sets the Python exception an app sees when the client left.
  void set_client_gone(const char* what);
};

// Latin-1 bytes of a str (PEP 3333's "native strings"); false with a
// Python exception set when `s` is not a str or not latin-1.
bool latin1_of(PyObject* s, std::string& out, const char* what);

// The common case of latin1_of() without a copy: an exact str of ASCII
// characters is its own bytes. false (no exception) otherwise.
inline bool ascii_view(PyObject* s, std::string_view& out) {
  if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s)) return false;
  out = std::string_view(static_cast<const char*>(PyUnicode_DATA(s)),
                         static_cast<size_t>(PyUnicode_GET_LENGTH(s)));
  return true;
}

}  // namespace greenfork::wsgi
