#include "greenfork/wsgi/input_stream.hpp"

#include "engine_call.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

namespace greenfork::wsgi {
namespace {

constexpr size_t kChunk = 64 * 1024;

struct InputState {
  bool attached = false;
  worker::BodyReader* body = nullptr;  // nullptr: the request has no body
  AppCall* exchange = nullptr;
  std::optional<uint64_t> remaining;  // not yet pulled from `body`, when known
  bool eof = false;
  std::string buf;  // pulled but not yet returned: buf[pos..]
  size_t pos = 0;
  size_t scanned = 0;  // buf[pos..scanned] has no '\n' (readline)

  size_t buffered() const { return buf.size() - pos; }
  void consume(size_t n) {
    pos += n;
    if (pos == buf.size()) {
      buf.clear();
      pos = 0;
    }
    scanned = pos;
  }
};

struct InputObject {
  PyObject_HEAD
  InputState* state;
};

PyTypeObject* g_type = nullptr;

InputState& state_of(PyObject* self) { return *reinterpret_cast<InputObject*>(self)->state; }

bool check_attached(const InputState& st) {
  if (st.attached) return true;
  PyErr_SetString(PyExc_ValueError, "wsgi.input used outside its request");
  return false;
}

// Up to `max` bytes straight from the body, GIL released while waiting.
// Returns the count (0 at the end) or -1 with a Python exception set.
Py_ssize_t pull(InputState& st, char* dst, size_t max) {
  if (st.eof || max == 0) return 0;
  if (st.remaining) {
    if (*st.remaining == 0) {
      st.eof = true;
      return 0;
    }
    max = static_cast<size_t>(std::min<uint64_t>(max, *st.remaining));
  }
  size_t n = 0;
  if (!call_engine(st.exchange, "read failed", [&] { n = st.body->read(dst, max); })) return -1;
  if (n == 0) {
    st.eof = true;
  } else if (st.remaining) {
    *st.remaining -= n;
  }
  return static_cast<Py_ssize_t>(n);
}

// Appends up to `want` more body bytes to the buffer; false on error.
bool fill(InputState& st, size_t want) {
  if (st.pos > 0 && st.pos >= st.buf.size() / 2) {
    st.buf.erase(0, st.pos);
    st.scanned -= st.pos;
    st.pos = 0;
  }
  const size_t old = st.buf.size();
  st.buf.resize(old + want);
  Py_ssize_t n = pull(st, st.buf.data() + old, want);
  st.buf.resize(old + static_cast<size_t>(std::max<Py_ssize_t>(n, 0)));
  return n >= 0;
}

PyObject* take(InputState& st, size_t n) {
  PyObject* out = PyBytes_FromStringAndSize(st.buf.data() + st.pos, static_cast<Py_ssize_t>(n));
  if (out) st.consume(n);
  return out;
}

Py_ssize_t size_arg(PyObject* const* args, Py_ssize_t nargs, const char* name, bool* ok) {
  *ok = true;
  if (nargs > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
    *ok = false;
    return -1;
  }
  if (nargs == 0 || args[0] == Py_None) return -1;
  Py_ssize_t v = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (v == -1 && PyErr_Occurred()) *ok = false;
  return v;
}

PyObject* read_sized(InputState& st, size_t size);

PyObject* read_all(InputState& st) {
  // Known length: filled in place, one copy (read_sized below).
  if (st.remaining) {
    return read_sized(st, st.buffered() + static_cast<size_t>(*st.remaining));
  }
  std::string out;
  if (st.remaining) out.reserve(st.buffered() + static_cast<size_t>(*st.remaining));
  out.append(st.buf, st.pos);
  st.consume(st.buffered());
  for (;;) {
    const size_t old = out.size();
    size_t want = st.remaining ? static_cast<size_t>(std::max<uint64_t>(*st.remaining, 1)) : kChunk;
    out.resize(old + want);
    Py_ssize_t n = pull(st, out.data() + old, want);
    out.resize(old + static_cast<size_t>(std::max<Py_ssize_t>(n, 0)));
    if (n < 0) return nullptr;
    if (n == 0) break;
  }
  return PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
}

PyObject* read_sized(InputState& st, size_t size) {
  if (st.buffered() >= size) return take(st, size);
  if (!st.remaining) {  // chunked: unknown length, grow as data comes
    while (st.buffered() < size && !st.eof) {
      if (!fill(st, std::min(kChunk, size - st.buffered()))) return nullptr;
    }
    return take(st, std::min(size, st.buffered()));
  }
  // Known length: one bytes object of the final size, filled in place.
  const size_t have = st.buffered();
  const size_t total = static_cast<size_t>(std::min<uint64_t>(size, have + *st.remaining));
  PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(total));
  if (!out) return nullptr;
  char* dst = PyBytes_AS_STRING(out);
  std::memcpy(dst, st.buf.data() + st.pos, have);
  st.consume(have);
  size_t got = have;
  while (got < total) {
    Py_ssize_t n = pull(st, dst + got, total - got);
    if (n < 0) {
      Py_DECREF(out);
      return nullptr;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < total && _PyBytes_Resize(&out, static_cast<Py_ssize_t>(got)) < 0) return nullptr;
  return out;
}

PyObject* readline_impl(InputState& st, Py_ssize_t limit_arg) {
  const size_t limit = limit_arg < 0 ? SIZE_MAX : static_cast<size_t>(limit_arg);
  for (;;) {
    const char* base = st.buf.data();
    const size_t end = std::min(st.buf.size(), limit == SIZE_MAX ? st.buf.size() : st.pos + limit);
    const void* nl = std::memchr(base + st.scanned, '\n', end > st.scanned ? end - st.scanned : 0);
    if (nl) {
      return take(st, static_cast<size_t>(static_cast<const char*>(nl) - (base + st.pos)) + 1);
    }
    st.scanned = std::max(st.scanned, end);
    if (st.buffered() >= limit) return take(st, limit);
    if (st.eof) return take(st, st.buffered());
    if (!fill(st, kChunk)) return nullptr;
  }
}

PyObject* input_read(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  InputState& st = state_of(self);
  bool ok = false;
  Py_ssize_t size = size_arg(args, nargs, "read", &ok);
  if (!ok || !check_attached(st)) return nullptr;
  return size < 0 ? read_all(st) : read_sized(st, static_cast<size_t>(size));
}

PyObject* input_readline(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  InputState& st = state_of(self);
  bool ok = false;
  Py_ssize_t size = size_arg(args, nargs, "readline", &ok);
  if (!ok || !check_attached(st)) return nullptr;
  return readline_impl(st, size);
}

PyObject* input_readlines(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  InputState& st = state_of(self);
  bool ok = false;
  Py_ssize_t hint = size_arg(args, nargs, "readlines", &ok);
  if (!ok || !check_attached(st)) return nullptr;
  PyRef lines(PyList_New(0));
  if (!lines) return nullptr;
  Py_ssize_t total = 0;
  for (;;) {
    PyRef line(readline_impl(st, -1));
    if (!line) return nullptr;
    const Py_ssize_t n = PyBytes_GET_SIZE(line.get());
    if (n == 0) break;
    if (PyList_Append(lines.get(), line.get()) < 0) return nullptr;
    total += n;
    if (hint > 0 && total >= hint) break;
  }
  return lines.release();
}

PyObject* input_iternext(PyObject* self) {
  InputState& st = state_of(self);
  if (!check_attached(st)) return nullptr;
  PyObject* line = readline_impl(st, -1);
  if (line && PyBytes_GET_SIZE(line) == 0) {
    Py_DECREF(line);
    return nullptr;  // StopIteration
  }
  return line;
}

void input_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  delete reinterpret_cast<InputObject*>(self)->state;
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef g_methods[] = {
    {"read", as_method(input_read), METH_FASTCALL, "read(size=-1) -> bytes"},
    {"readline", as_method(input_readline), METH_FASTCALL, "readline(size=-1) -> bytes"},
    {"readlines", as_method(input_readlines), METH_FASTCALL, "readlines(hint=-1) -> list"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(input_dealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(input_iternext)},
    {Py_tp_methods, g_methods},
    {Py_tp_doc, const_cast<char*>("wsgi.input: the request body as a binary stream")},
    {0, nullptr},
};

PyType_Spec g_spec = {"greenfork.InputStream", sizeof(InputObject), 0,
                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, g_slots};

}  // namespace

bool input_stream_init_type() {
  if (g_type) return true;
  g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_spec));
  return g_type != nullptr;
}

PyObject* input_stream_new() {
  InputObject* obj = PyObject_New(InputObject, g_type);
  if (!obj) return nullptr;
  obj->state = new InputState();
  return reinterpret_cast<PyObject*>(obj);
}

void input_stream_attach(PyObject* stream, worker::BodyReader* body, AppCall* exchange,
                         std::optional<uint64_t> content_length) {
  InputState& st = state_of(stream);
  st.attached = true;
  st.body = body;
  st.exchange = exchange;
  st.remaining = content_length;
  st.eof = body == nullptr;
  st.buf.clear();
  st.pos = st.scanned = 0;
}

void input_stream_detach(PyObject* stream) {
  InputState& st = state_of(stream);
  st.attached = false;
  st.body = nullptr;
  st.exchange = nullptr;
  st.eof = true;
  st.buf.clear();
  if (st.buf.capacity() > 4 * kChunk) st.buf.shrink_to_fit();
  st.pos = st.scanned = 0;
}

}  // namespace greenfork::wsgi
