#include "greenfork/wsgi/environ_builder.hpp"

#include <charconv>
#include <vector>

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
  static constexpr const char* kStickyKeys[kFieldCount] = {
      "REQUEST_METHOD", "SERVER_PROTOCOL", "wsgi.url_scheme", "SERVER_NAME", "SERVER_PORT",
      "REMOTE_ADDR",    "PATH_INFO",       "RAW_URI",         "QUERY_STRING"};
  empty_ = PyUnicode_FromStringAndSize("", 0);
  k_remote_port_ = key("REMOTE_PORT");
  k_input_ = key("wsgi.input");
  template_ = PyDict_New();
  if (!empty_ || !k_remote_port_ || !k_input_ || !template_) return false;
  PyObject* t = template_;
  // Every request overwrites these placeholders (the first one all of them).
  for (size_t i = 0; i < kFieldCount; ++i) {
    sticky_[i].key = key(kStickyKeys[i]);
    if (!sticky_[i].key || PyDict_SetItem(t, sticky_[i].key, Py_None) != 0) return false;
  }
  if (PyDict_SetItem(t, k_input_, Py_None) != 0) return false;
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
         set_str(t, "GATEWAY_INTERFACE", "CGI/1.1") && make_room();
}

// A copy of a dict gets a table of the same size, and the template's is
// only just big enough for its own entries: grow it once more, so that a
// request's own entries (peer port, early hints, headers) fit in a copy
// without a resize. CPython grows a table only on insert, so insert
// placeholder keys until it grows, then delete them. (A dict presized
// with _PyDict_NewPresized() would not have the compact table of str
// keys, whose copy is smaller and comes from malloc's fast path.)
bool EnvironBuilder::make_room() {
  auto size_of = [this] {
    PyRef size(PyObject_CallMethod(template_, "__sizeof__", nullptr));
    return size ? PyLong_AsSsize_t(size.get()) : -1;
  };
  const Py_ssize_t before = size_of();
  if (before < 0) return false;
  std::vector<PyRef> placeholders;
  for (int i = 0; i < kRoomLimit; ++i) {
    PyRef key(PyUnicode_FromFormat("greenfork.room.%d", i));
    if (!key || PyDict_SetItem(template_, key.get(), Py_None) != 0) return false;
    placeholders.push_back(std::move(key));
    const Py_ssize_t now = size_of();
    if (now < 0) return false;
    if (now > before) break;
  }
  for (const PyRef& key : placeholders) {
    if (PyDict_DelItem(template_, key.get()) != 0) return false;
  }
  return true;
}

PyObject* EnvironBuilder::header_key(std::string_view name, Memo& memo) {
  if (memo.object != nullptr && memo.text == name) {
    Py_INCREF(memo.object);
    return memo.object;
  }
  const std::string key = cgi_header_key(name);
  if (auto it = header_keys_.find(key); it != header_keys_.end()) {
    memo.text = name;
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

PyObject* EnvironBuilder::cached_value(std::string_view value) {
  if (auto it = values_.find(value); it != values_.end()) {
    Py_INCREF(it->second);
    return it->second;
  }
  PyObject* v = latin1(value);
  if (v && values_.size() < kCacheLimit && value.size() <= kKeepLimit) {
    Py_INCREF(v);
    values_.emplace(std::string(value), v);
  }
  return v;
}

bool EnvironBuilder::set_sticky(PyObject* dict, Field field, std::string_view value,
                                bool cached) {
  Sticky& s = sticky_[field];
  if (s.held && s.text == value) return true;  // the copy has it already
  PyRef v(value.empty() ? PyRef::borrow(empty_).release()
                        : cached ? cached_value(value) : latin1(value));
  if (!v || PyDict_SetItem(dict, s.key, v.get()) != 0) return false;
  if (value.size() <= kKeepLimit) {
    // Later copies start with it. A failure here only leaves the old pair.
    if (PyDict_SetItem(template_, s.key, v.get()) != 0) return false;
    s.text = value;
    s.held = true;
  }
  return true;
}

bool EnvironBuilder::set_header(PyObject* dict, PyObject* key, std::string_view value,
                                Recent& recent) {
  if (recent.object != nullptr && recent.text == value) {
    return PyDict_SetItem(dict, key, recent.object) == 0;
  }
  PyRef v(latin1(value));
  if (!v || PyDict_SetItem(dict, key, v.get()) != 0) return false;
  if (value.size() <= kKeepLimit) {
    Py_XSETREF(recent.object, v.release());
    recent.text = value;
  }
  return true;
}

bool EnvironBuilder::set_remote_port(PyObject* dict, uint16_t port) {
  Port& slot = ports_[port % kPortSlots];
  if (slot.object == nullptr || slot.number != port) {
    char text[8];
    auto [end, ec] = std::to_chars(text, text + sizeof text, port);
    (void)ec;  // a uint16_t always fits
    PyObject* v = PyUnicode_FromStringAndSize(text, end - text);
    if (!v) return false;
    Py_XSETREF(slot.object, v);
    slot.number = port;
  }
  return PyDict_SetItem(dict, k_remote_port_, slot.object) == 0;
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
  bool ok = set_sticky(d, kMethod, r.method, true) &&
            set_sticky(d, kProtocol, protocol, true) &&
            set_sticky(d, kScheme, r.url_scheme, true) &&
            set_sticky(d, kServerName, p.server_name, true) &&
            set_sticky(d, kServerPort, p.server_port, true) &&
            set_sticky(d, kRemoteAddr, r.remote_addr, true) &&
            set_sticky(d, kPathInfo, p.path_info, false) &&
            set_sticky(d, kRawUri, r.target, false) &&
            set_sticky(d, kQuery, r.query, false) &&
            PyDict_SetItem(d, k_input_, input) == 0;
  if (ok && !r.unix_socket) ok = set_remote_port(d, r.remote_port);
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
  for (const PreparedHeader& h : p.headers) {
    const size_t slot = i++ % kHeaderSlots;
    PyRef key(header_key(h.name, header_memo_[slot]));
    if (!key || !set_header(d, key.get(), h.value(), header_values_[slot])) return nullptr;
  }
  return env.release();
}

}  // namespace greenfork::wsgi
