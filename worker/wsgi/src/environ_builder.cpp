#include "greenfork/wsgi/environ_builder.hpp"

#include <charconv>

namespace greenfork::wsgi {
namespace {

PyObject* latin1(std::string_view s) {
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

// Stores a new reference (steals it); false if it was nullptr or on error.
bool set_new(PyObject* dict, PyObject* key, PyObject* value) {
  if (!value) return false;
  int rc = PyDict_SetItem(dict, key, value);
  Py_DECREF(value);
  return rc == 0;
}

bool set_str(PyObject* dict, const char* key, const char* value) {
  return set_new(dict, PyUnicode_InternFromString(key), PyUnicode_FromString(value));
}

const char* protocol_of(const worker::Request& r) {
  if (r.http_major == 1 && r.http_minor == 1) return "HTTP/1.1";
  if (r.http_major == 1 && r.http_minor == 0) return "HTTP/1.0";
  if (r.http_major == 2) return "HTTP/2";
  return nullptr;
}

}  // namespace

bool EnvironBuilder::init(const EnvironConstants& c) {
  auto key = [](const char* s) { return PyUnicode_InternFromString(s); };
  empty_ = PyUnicode_FromStringAndSize("", 0);
  k_method_ = key("REQUEST_METHOD");
  k_path_info_ = key("PATH_INFO");
  k_query_ = key("QUERY_STRING");
  k_raw_uri_ = key("RAW_URI");
  k_server_name_ = key("SERVER_NAME");
  k_server_port_ = key("SERVER_PORT");
  k_protocol_ = key("SERVER_PROTOCOL");
  k_remote_addr_ = key("REMOTE_ADDR");
  k_remote_port_ = key("REMOTE_PORT");
  k_scheme_ = key("wsgi.url_scheme");
  k_input_ = key("wsgi.input");
  if (!empty_ || !k_method_ || !k_path_info_ || !k_query_ || !k_raw_uri_ || !k_server_name_ ||
      !k_server_port_ || !k_protocol_ || !k_remote_addr_ || !k_remote_port_ || !k_scheme_ ||
      !k_input_) {
    return false;
  }
  template_ = PyDict_New();
  if (!template_) return false;
  PyObject* t = template_;
  Py_INCREF(c.errors);
  Py_INCREF(c.file_wrapper);
  return set_new(t, key("wsgi.version"), Py_BuildValue("(ii)", 1, 0)) &&
         set_new(t, key("wsgi.errors"), c.errors) &&
         set_new(t, key("wsgi.file_wrapper"), c.file_wrapper) &&
         set_new(t, key("wsgi.multithread"), PyBool_FromLong(c.multithread)) &&
         set_new(t, key("wsgi.multiprocess"), PyBool_FromLong(c.multiprocess)) &&
         set_new(t, key("wsgi.run_once"), PyBool_FromLong(0)) &&
         set_new(t, key("wsgi.input_terminated"), PyBool_FromLong(1)) &&
         set_new(t, key("SCRIPT_NAME"), latin1(c.script_name)) &&
         set_str(t, "SERVER_SOFTWARE", "greenfork/" GF_VERSION) &&
         set_str(t, "GATEWAY_INTERFACE", "CGI/1.1");
}

PyObject* EnvironBuilder::header_key(const std::string& key, Memo& memo) {
  if (memo.object != nullptr && memo.text == key) {
    Py_INCREF(memo.object);
    return memo.object;
  }
  if (auto it = header_keys_.find(key); it != header_keys_.end()) {
    memo.text = key;
    memo.object = it->second;
    Py_INCREF(it->second);
    return it->second;
  }
  PyObject* k = PyUnicode_FromStringAndSize(key.data(), static_cast<Py_ssize_t>(key.size()));
  if (!k) return nullptr;
  PyUnicode_InternInPlace(&k);
  // Bounded: a client inventing header names cannot grow the cache forever.
  if (header_keys_.size() < kCacheLimit) {
    Py_INCREF(k);
    header_keys_.emplace(key, k);
  }
  return k;
}

PyObject* EnvironBuilder::cached_value(std::string_view value, bool* owned, Memo& memo) {
  *owned = false;
  if (memo.object != nullptr && memo.text == value) return memo.object;
  if (auto it = values_.find(value); it != values_.end()) {
    memo.text = value;
    memo.object = it->second;
    return it->second;
  }
  PyObject* v = latin1(value);
  if (!v) return nullptr;
  if (values_.size() < kCacheLimit) {
    values_.emplace(std::string(value), v);
    memo.text = value;
    memo.object = v;
    return v;
  }
  *owned = true;
  return v;
}

bool EnvironBuilder::set_cached(PyObject* dict, PyObject* key, std::string_view value,
                                Memo& memo) {
  bool owned = false;
  PyObject* v = cached_value(value, &owned, memo);
  if (!v) return false;
  int rc = PyDict_SetItem(dict, key, v);
  if (owned) Py_DECREF(v);
  return rc == 0;
}

PyObject* EnvironBuilder::build(const PreparedEnviron& p, const worker::Request& r,
                                PyObject* input) {
  PyRef env(PyDict_Copy(template_));
  if (!env) return nullptr;
  PyObject* d = env.get();
  const char* protocol = protocol_of(r);
  std::string other_protocol;
  if (!protocol) {
    other_protocol = "HTTP/" + std::to_string(r.http_major) + "." + std::to_string(r.http_minor);
    protocol = other_protocol.c_str();
  }
  MemoTable& m = value_memo_;
  bool ok = set_cached(d, k_method_, r.method, m[0]) &&
            set_cached(d, k_protocol_, protocol, m[1]) &&
            set_cached(d, k_scheme_, r.url_scheme, m[2]) &&
            set_cached(d, k_server_name_, p.server_name, m[3]) &&
            set_cached(d, k_server_port_, p.server_port, m[4]) &&
            set_cached(d, k_remote_addr_, r.remote_addr, m[5]) &&
            set_new(d, k_path_info_, latin1(p.path_info)) &&
            set_new(d, k_raw_uri_, latin1(r.target)) &&
            PyDict_SetItem(d, k_input_, input) == 0;
  if (!ok) return nullptr;
  ok = r.query.empty() ? PyDict_SetItem(d, k_query_, empty_) == 0
                       : set_new(d, k_query_, latin1(r.query));
  if (ok && !r.unix_socket) {
    char port[8];
    auto [end, ec] = std::to_chars(port, port + sizeof port, r.remote_port);
    (void)ec;  // a uint16_t always fits
    ok = set_new(d, k_remote_port_, PyUnicode_FromStringAndSize(port, end - port));
  }
  // A verified client certificate (TLS with --cert-reqs): Apache mod_ssl's
  // and nginx's names for it.
  if (ok && !r.tls_client_subject.empty()) {
    PyRef dn_key(PyUnicode_InternFromString("SSL_CLIENT_S_DN"));
    PyRef verify_key(PyUnicode_InternFromString("SSL_CLIENT_VERIFY"));
    ok = dn_key && verify_key &&
         set_new(d, dn_key.get(),
                 PyUnicode_FromStringAndSize(r.tls_client_subject.data(),
                                             static_cast<Py_ssize_t>(r.tls_client_subject.size()))) &&
         set_new(d, verify_key.get(), PyUnicode_FromString("SUCCESS"));
  }
  if (!ok) return nullptr;
  size_t i = 0;
  for (const auto& [name, value] : p.headers) {
    PyRef key(header_key(name, header_memo_[i++ % kMemoSlots]));
    if (!key || !set_new(d, key.get(), latin1(value))) return nullptr;
  }
  return env.release();
}

}  // namespace greenfork::wsgi
