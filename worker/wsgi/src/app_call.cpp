#include "greenfork/wsgi/app_call.hpp"

#include <charconv>
#include <exception>

#include "engine_call.hpp"
#include "greenfork/http_token.hpp"

namespace greenfork::wsgi {

bool latin1_of(PyObject* s, std::string& out, const char* what) {
  if (!PyUnicode_Check(s)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what, Py_TYPE(s)->tp_name);
    return false;
  }
  if (PyUnicode_IS_ASCII(s)) {  // the common case: no encoding, no copy but this one
    out.assign(static_cast<const char*>(PyUnicode_DATA(s)),
               static_cast<size_t>(PyUnicode_GET_LENGTH(s)));
    return true;
  }
  PyRef bytes(PyUnicode_AsLatin1String(s));
  if (!bytes) return false;
  out.assign(PyBytes_AS_STRING(bytes.get()), static_cast<size_t>(PyBytes_GET_SIZE(bytes.get())));
  return true;
}

void AppCall::set_client_gone(const char* what) {
  client_gone = true;
  client_gone_reason = what;
  PyErr_Format(PyExc_ConnectionAbortedError, "client disconnected: %s", what);
}

bool AppCall::begin_response() {
  if (started) return true;
  if (!start_called) {
    PyErr_SetString(PyExc_AssertionError, "response body before start_response() was called");
    return false;
  }
  for (const worker::Header& h : headers) {
    if (h.name.size() == 14 && http_token::iequals(h.name, "content-length")) {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), v);
      if (ec == std::errc() && end == h.value.data() + h.value.size()) declared_length = v;
    }
  }
  if (sent_headers) *sent_headers = headers;
  Status st = out->start(status_code, reason, std::move(headers));
  headers.clear();
  if (!st.ok()) {
    host->log_error(st.message());
    PyErr_Format(PyExc_ValueError, "%s", st.message().c_str());
    return false;
  }
  started = true;
  return true;
}

bool AppCall::write_body(const char* data, size_t len) {
  if (!begin_response()) return false;
  if (len == 0) return true;
  wrote_body = true;
  body_written += len;
  const bool flush = !declared_length || body_written < *declared_length;
  return call_engine(this, "write failed", [&] {
    out->write(data, len);
    if (flush) out->flush();
  });
}

}  // namespace greenfork::wsgi
