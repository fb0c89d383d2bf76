#include "greenfork/wsgi/py.hpp"

#include <unistd.h>

#include <string>
#include <vector>

#include "engine/access_log.hpp"
#include "framework_state.hpp"

namespace greenfork::worker {

namespace {

FrameworkState* g_state = nullptr;

void integrate(FrameworkState& s, FrameworkState::Clock::time_point now) {
  s.request_seconds += static_cast<double>(s.in_flight.size()) *
                       std::chrono::duration<double>(now - s.integrated_at).count();
  s.integrated_at = now;
}

PyObject* tick(PyObject*, PyObject*) {
  g_state->last_tick_ns.store(FrameworkState::Clock::now().time_since_epoch().count(),
                              std::memory_order_relaxed);
  Py_RETURN_NONE;
}

PyObject* begin(PyObject*, PyObject*) {
  const auto now = FrameworkState::Clock::now();
  const std::lock_guard<std::mutex> lock(g_state->mu);
  integrate(*g_state, now);
  const uint64_t token = g_state->next_token++;
  g_state->in_flight.emplace(token, now);
  return PyLong_FromUnsignedLongLong(token);
}

PyObject* end(PyObject*, PyObject* arg) {
  const uint64_t token = PyLong_AsUnsignedLongLong(arg);
  if (PyErr_Occurred()) return nullptr;
  const std::lock_guard<std::mutex> lock(g_state->mu);
  integrate(*g_state, FrameworkState::Clock::now());
  g_state->in_flight.erase(token);
  Py_RETURN_NONE;
}

// A str (or bytes, taken as they are) as the octets the access log writes.
bool text_of(PyObject* o, std::string& out) {
  if (PyBytes_Check(o)) {
    out.assign(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
    return true;
  }
  Py_ssize_t len = 0;
  const char* s = PyUnicode_AsUTF8AndSize(o, &len);
  if (s == nullptr) return false;
  out.assign(s, static_cast<size_t>(len));
  return true;
}

// [(name, value), ...] -> headers.
bool headers_of(PyObject* seq, std::vector<Header>& out) {
  wsgi::PyRef fast(PySequence_Fast(seq, "headers must be a sequence of (name, value) pairs"));
  if (!fast) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.get());
  out.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = PySequence_Fast_GET_ITEM(fast.get(), i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      PyErr_SetString(PyExc_TypeError, "a header must be a (name, value) tuple");
      return false;
    }
    Header h;
    if (!text_of(PyTuple_GET_ITEM(pair, 0), h.name) || !text_of(PyTuple_GET_ITEM(pair, 1), h.value)) {
      return false;
    }
    out.push_back(std::move(h));
  }
  return true;
}

PyObject* served(PyObject*, PyObject* args) {
  PyObject *remote = nullptr, *method = nullptr, *target = nullptr, *req_headers = nullptr,
           *resp_headers = nullptr;
  int minor = 1, status = 0;
  unsigned long long bytes = 0;
  double seconds = 0;
  if (!PyArg_ParseTuple(args, "OOOiiKOOd", &remote, &method, &target, &minor, &status, &bytes,
                        &req_headers, &resp_headers, &seconds)) {
    return nullptr;
  }
  uint64_t count = 0;
  {
    const std::lock_guard<std::mutex> lock(g_state->mu);
    g_state->counters.record(status, seconds);
    count = ++g_state->served;
  }
  if (g_state->access_log != nullptr) {
    Request req;
    std::vector<Header> out_headers;
    if (!text_of(remote, req.remote_addr) || !text_of(method, req.method) ||
        !text_of(target, req.target) || !headers_of(req_headers, req.headers) ||
        !headers_of(resp_headers, out_headers)) {
      return nullptr;
    }
    const size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    req.http_minor = minor;
    g_state->access_log->log(AccessLog::Record{&req, status, bytes, &out_headers,
                                               static_cast<int64_t>(seconds * 1e6)});
  }
  return PyLong_FromUnsignedLongLong(count);
}

PyObject* ready(PyObject*, PyObject*) {
  if (!g_state->ready.exchange(true) && g_state->on_ready) g_state->on_ready();
  Py_RETURN_NONE;
}

PyObject* stopping(PyObject*, PyObject*) {
  g_state->stopping = true;
  Py_RETURN_NONE;
}

PyObject* signal_fd(PyObject*, PyObject*) { return PyLong_FromLong(g_state->signal_read_fd); }

PyMethodDef g_methods[] = {
    {"tick", tick, METH_NOARGS, "tick(): the event loop is alive"},
    {"begin", begin, METH_NOARGS, "begin() -> token: a request reached the app"},
    {"end", end, METH_O, "end(token): the request left the app"},
    {"served", served, METH_VARARGS,
     "served(remote, method, target, http_minor, status, body_bytes, request_headers, "
     "response_headers, seconds) -> requests served: one access log line"},
    {"ready", ready, METH_NOARGS, "ready(): the app is serving (READY=1)"},
    {"stopping", stopping, METH_NOARGS, "stopping(): leaving on its own"},
    {"signal_fd", signal_fd, METH_NOARGS, "signal_fd(): read end of the signal pipe"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, "_gworker_fw",
                        "gworker's side of a framework-native worker", -1, g_methods,
                        nullptr, nullptr, nullptr, nullptr};

}  // namespace

EngineStats FrameworkState::snapshot() {
  EngineStats s;
  const auto now = Clock::now();
  const std::lock_guard<std::mutex> lock(mu);
  integrate(*this, now);
  s.requests_served = served;
  s.in_flight = static_cast<uint32_t>(in_flight.size());
  // X_CONNECTIONS stays 0: the framework owns its connections, unseen here.
  if (!in_flight.empty()) {
    auto oldest = in_flight.begin()->second;  // tokens grow with time
    s.oldest_request_age_seconds = std::chrono::duration<double>(now - oldest).count();
  }
  s.request_seconds = request_seconds;
  s.stopping = stopping.load();
  s.counters = counters;
  return s;
}

bool install_framework_module(FrameworkState* state) {
  g_state = state;
  wsgi::PyRef module(PyModule_Create(&g_module));
  if (!module) return false;
  return PyDict_SetItemString(PyImport_GetModuleDict(), "_gworker_fw", module.get()) == 0;
}

}  // namespace greenfork::worker
