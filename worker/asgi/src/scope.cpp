#include "greenfork/asgi/scope.hpp"

#include <cstdlib>

namespace greenfork::asgi {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

PyObject* bytes_of(std::string_view s) {
  return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject* str_of(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

// Sets d[key] = value, stealing value; false (exception set) on failure.
bool put(PyObject* d, const char* key, PyObject* value) {
  if (value == nullptr) return false;
  const int rc = PyDict_SetItemString(d, key, value);
  Py_DECREF(value);
  return rc == 0;
}

PyObject* address(const std::string& host, long port) {
  return Py_BuildValue("(Nl)", str_of(host), port);
}

PyObject* headers_list(const std::vector<worker::Header>& headers) {
  wsgi::PyRef list(PyList_New(static_cast<Py_ssize_t>(headers.size())));
  if (!list) return nullptr;
  std::string lower;
  for (size_t i = 0; i < headers.size(); ++i) {
    lower = headers[i].name;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    PyObject* pair = Py_BuildValue("(NN)", bytes_of(lower), bytes_of(headers[i].value));
    if (pair == nullptr) return nullptr;
    PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), pair);
  }
  return list.release();
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

namespace {

PyObject* build_scope(const worker::Request& r, const ScopeConstants& constants, PyObject* state,
                      const std::vector<std::string>* subprotocols) {
  wsgi::PyRef scope(PyDict_New());
  if (!scope) return nullptr;
  PyObject* d = scope.get();
  if (subprotocols == nullptr) {
    if (!put(d, "type", PyUnicode_FromString("http")) || !put(d, "method", str_of(r.method)) ||
        !put(d, "extensions", Py_BuildValue("{s{}s{}s{}}", "http.response.pathsend",
                                            "http.response.trailers", "http.response.early_hint"))) {
      return nullptr;
    }
  } else {
    wsgi::PyRef list(PyList_New(0));
    if (!list) return nullptr;
    for (const std::string& s : *subprotocols) {
      wsgi::PyRef item(str_of(s));
      if (!item || PyList_Append(list.get(), item.get()) != 0) return nullptr;
    }
    if (!put(d, "type", PyUnicode_FromString("websocket")) ||
        !put(d, "subprotocols", list.release()) ||
        !put(d, "extensions", Py_BuildValue("{s{}}", "websocket.http.response"))) {
      return nullptr;
    }
  }
  const bool ok =
      put(d, "asgi", Py_BuildValue("{ssss}", "version", "3.0", "spec_version", "2.4")) &&
      put(d, "http_version", PyUnicode_FromString(r.http_major == 2 ? "2" : r.http_minor == 0 ? "1.0" : "1.1")) &&
      put(d, "scheme", str_of(r.url_scheme)) &&
      put(d, "path", str_of(percent_decode(r.path))) && put(d, "raw_path", bytes_of(r.path)) &&
      put(d, "query_string", bytes_of(r.query)) &&
      PyDict_SetItemString(d, "root_path", constants.root_path.get()) == 0 &&
      put(d, "headers", headers_list(r.headers));
  if (!ok) return nullptr;
  // Unix sockets: no client address; the server is the socket's path.
  PyObject* client = r.unix_socket || r.remote_addr.empty()
                         ? Py_NewRef(Py_None)
                         : address(r.remote_addr, r.remote_port);
  PyObject* server = nullptr;
  if (r.unix_socket) {
    server = Py_BuildValue("(NO)", str_of(r.server_name), Py_None);
  } else {
    server = address(r.server_name, std::strtol(r.server_port.c_str(), nullptr, 10));
  }
  if (!put(d, "client", client) || !put(d, "server", server)) return nullptr;
  if (state != nullptr && !put(d, "state", PyDict_Copy(state))) return nullptr;
  return scope.release();
}

}  // namespace

PyObject* build_http_scope(const worker::Request& r, const ScopeConstants& constants,
                           PyObject* state) {
  return build_scope(r, constants, state, nullptr);
}

PyObject* build_websocket_scope(const worker::Request& r,
                                const std::vector<std::string>& subprotocols,
                                const ScopeConstants& constants, PyObject* state) {
  return build_scope(r, constants, state, &subprotocols);
}

}  // namespace greenfork::asgi
