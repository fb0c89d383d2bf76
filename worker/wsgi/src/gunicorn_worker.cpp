#include "greenfork/wsgi/gunicorn_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "greenfork/wsgi/helper_module.hpp"
#include "greenfork/wsgi/py_error.hpp"

namespace greenfork::wsgi {

extern const char* const kGunicornGlueSource;  // gunicorn_glue.py, generated

namespace {

GunicornWorker* g_worker = nullptr;

PyObject* to_python(const GunicornSetup::Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return Py_NewRef(Py_None);
  if (const auto* s = std::get_if<std::string>(&value)) {
    return PyUnicode_DecodeUTF8(s->data(), static_cast<Py_ssize_t>(s->size()), "surrogateescape");
  }
  if (const auto* i = std::get_if<long long>(&value)) return PyLong_FromLongLong(*i);
  if (const auto* d = std::get_if<double>(&value)) return PyFloat_FromDouble(*d);
  if (const auto* b = std::get_if<bool>(&value)) return PyBool_FromLong(*b ? 1 : 0);
  const auto& list = std::get<std::vector<std::string>>(value);
  PyRef out(PyList_New(static_cast<Py_ssize_t>(list.size())));
  for (size_t i = 0; out && i < list.size(); ++i) {
    PyObject* item = PyUnicode_DecodeUTF8(list[i].data(), static_cast<Py_ssize_t>(list[i].size()),
                                          "surrogateescape");
    if (item == nullptr) return nullptr;
    PyList_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), item);
  }
  return out.release();
}

PyObject* latin1(const std::string& s) {
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

// The pending exception as a one-line message; its traceback to the log.
std::string describe_failure(const std::string& config) {
  PyRef v = take_exception();
  PyObject* helper = helper_module();
  PyRef text(helper && v ? PyObject_CallMethod(helper, "format_exception", "O", v.get()) : nullptr);
  const char* tb_text = text ? PyUnicode_AsUTF8(text.get()) : nullptr;
  PyErr_Clear();
  const std::string name = v ? Py_TYPE(v.get())->tp_name : "error";
  if (tb_text != nullptr && name != "ConfigError") spdlog::error("{}", tb_text);
  std::string message = exception_str(v.get());
  if (name == "ConfigError") return message;
  if (config.empty()) return "cannot set up gworker's Python side: " + name + ": " + message;
  return "Failed to read config file " + config + ": " + name + ": " + message;
}

}  // namespace

GunicornWorker* gunicorn_worker() { return g_worker; }

StatusOr<std::unique_ptr<GunicornWorker>> GunicornWorker::boot(
    const InterpreterOptions& interpreter, const GunicornSetup& setup, bool* interpreter_failed) {
  *interpreter_failed = false;
  const bool running = Py_IsInitialized();
  PyGILState_STATE gil = running ? PyGILState_Ensure() : PyGILState_UNLOCKED;
  if (!running) {
    if (Status st = start_interpreter(interpreter); !st.ok()) {
      *interpreter_failed = true;
      return st;
    }
  }
  auto release = [&] {
    if (running) {
      PyGILState_Release(gil);
    } else {
      PyEval_SaveThread();
    }
  };
  std::unique_ptr<GunicornWorker> self(new GunicornWorker());
  Status status;
  PyRef names;
  if (!log_bridge_install(setup.access_writer)) {
    PyErr_Print();
    status = Status::error("cannot set up Python logging (_greenfork_log)");
  } else {
    PyRef code(Py_CompileString(kGunicornGlueSource, "<greenfork/wsgi/gunicorn_glue.py>",
                                Py_file_input));
    self->glue_ = code ? PyImport_ExecCodeModule("_greenfork_gunicorn", code.get()) : nullptr;
    PyRef given(PyDict_New());
    for (const auto& [name, value] : setup.settings) {
      PyRef v(to_python(value));
      if (!given || !v || PyDict_SetItemString(given.get(), name.c_str(), v.get()) < 0) break;
    }
    if (self->glue_ != nullptr && given && !PyErr_Occurred()) {
      names = PyRef(PyObject_CallMethod(
          self->glue_, "boot", "sOsOsss", setup.config.c_str(), given.get(),
          setup.log_level.c_str(), setup.access_log ? Py_True : Py_False,
          setup.log_config.c_str(), setup.log_config_dict.c_str(), setup.log_config_json.c_str()));
    }
    if (!names) status = Status::error(describe_failure(setup.config));
  }
  // boot() returns (hook names, whether a logging config was applied).
  if (names && PyTuple_Check(names.get()) && PyTuple_GET_SIZE(names.get()) == 2) {
    PyObject* hooks = PyTuple_GET_ITEM(names.get(), 0);
    for (Py_ssize_t i = 0; PyTuple_Check(hooks) && i < PyTuple_GET_SIZE(hooks); ++i) {
      if (const char* s = PyUnicode_AsUTF8(PyTuple_GET_ITEM(hooks, i))) self->hooks_.emplace_back(s);
    }
    self->forward_access_ =
        !setup.access_log && PyObject_IsTrue(PyTuple_GET_ITEM(names.get(), 1)) == 1;
  }
  names = PyRef();
  release();
  if (!status.ok()) return status;
  self->pre_request_ = self->has("pre_request");
  self->post_request_ = self->has("post_request");
  if (self->forward_access_) self->forwarder_ = std::thread([w = self.get()] { w->forward_loop(); });
  g_worker = self.get();
  return self;
}

GunicornWorker::~GunicornWorker() {
  stop_forwarding();
  if (g_worker == this) g_worker = nullptr;
}

void GunicornWorker::access_line(std::string_view line) {
  constexpr size_t kMaxQueued = 65536;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued || stop_) return;
    queue_.emplace_back(line);
  }
  wake_.notify_one();
}

void GunicornWorker::stop_forwarding() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (forwarder_.joinable()) forwarder_.join();
}

void GunicornWorker::forward_loop() {
  std::vector<std::string> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      batch.swap(queue_);
      if (batch.empty()) return;  // stopped with nothing left
    }
    if (!Py_IsInitialized()) return;
    const PyGILState_STATE gil = PyGILState_Ensure();
    PyRef lines(PyList_New(static_cast<Py_ssize_t>(batch.size())));
    for (size_t i = 0; lines && i < batch.size(); ++i) {
      PyObject* line = PyUnicode_DecodeLatin1(batch[i].data(), static_cast<Py_ssize_t>(batch[i].size()), nullptr);
      if (line == nullptr) {
        lines = PyRef();
        break;
      }
      PyList_SET_ITEM(lines.get(), static_cast<Py_ssize_t>(i), line);
    }
    PyRef rc(lines ? PyObject_CallMethod(glue_, "access_lines", "O", lines.get()) : nullptr);
    if (!rc) PyErr_Print();
    rc = PyRef();
    lines = PyRef();
    PyGILState_Release(gil);
    batch.clear();
  }
}

bool GunicornWorker::has(const char* hook) const {
  return std::find(hooks_.begin(), hooks_.end(), hook) != hooks_.end();
}

Status GunicornWorker::run_hook(const char* name, bool fatal) {
  // post_worker_init always runs: it also marks the worker booted.
  if ((!has(name) && std::string_view(name) != "post_worker_init") || !Py_IsInitialized()) return {};
  const PyGILState_STATE gil = PyGILState_Ensure();
  PyRef ok(PyObject_CallMethod(glue_, "run_hook", "s", name));
  const bool raised = !ok || ok.get() != Py_True;
  if (!ok) {
    PyErr_Print();
  }
  ok = PyRef();
  PyGILState_Release(gil);
  if (raised && fatal) return Status::error(std::string("the ") + name + " hook raised an exception");
  return {};
}

Status GunicornWorker::post_fork() { return run_hook("post_fork", true); }
Status GunicornWorker::post_worker_init() { return run_hook("post_worker_init", true); }
void GunicornWorker::worker_int() { (void)run_hook("worker_int", false); }
void GunicornWorker::worker_abort() { (void)run_hook("worker_abort", false); }
void GunicornWorker::worker_exit() { (void)run_hook("worker_exit", false); }

PyObject* GunicornWorker::make_request(const worker::Request& r) const {
  PyRef headers(PyList_New(static_cast<Py_ssize_t>(r.headers.size())));
  if (!headers) return nullptr;
  for (size_t i = 0; i < r.headers.size(); ++i) {
    std::string name = r.headers[i].name;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    PyObject* pair = Py_BuildValue("(NN)", latin1(name), latin1(r.headers[i].value));
    if (pair == nullptr) return nullptr;
    PyList_SET_ITEM(headers.get(), static_cast<Py_ssize_t>(i), pair);
  }
  PyRef peer(r.unix_socket ? PyUnicode_FromString("")
                           : Py_BuildValue("(sH)", r.remote_addr.c_str(), r.remote_port));
  if (!peer) return nullptr;
  return PyObject_CallMethod(glue_, "Request", "NNNN(ii)OsO", latin1(r.method), latin1(r.target),
                             latin1(r.path), latin1(r.query), r.http_major, r.http_minor,
                             headers.get(), r.url_scheme.c_str(), peer.get());
}

bool GunicornWorker::pre_request(PyObject* req) const {
  PyRef rc(PyObject_CallMethod(glue_, "pre_request", "O", req));
  return static_cast<bool>(rc);
}

void GunicornWorker::post_request(PyObject* req, PyObject* environ, const std::string& status,
                                  const std::vector<worker::Header>& headers, uint64_t sent,
                                  std::optional<uint64_t> length) const {
  PyRef list(PyList_New(static_cast<Py_ssize_t>(headers.size())));
  for (size_t i = 0; list && i < headers.size(); ++i) {
    PyObject* pair = Py_BuildValue("(NN)", latin1(headers[i].name), latin1(headers[i].value));
    if (pair == nullptr) {
      list = PyRef();
      break;
    }
    PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), pair);
  }
  PyRef len(length ? PyLong_FromUnsignedLongLong(*length) : Py_NewRef(Py_None));
  PyRef resp(list && len ? PyObject_CallMethod(glue_, "Response", "NOKO", latin1(status), list.get(),
                                               static_cast<unsigned long long>(sent), len.get())
                         : nullptr);
  PyRef rc(resp ? PyObject_CallMethod(glue_, "post_request", "OOO", req,
                                      environ ? environ : Py_None, resp.get())
                : nullptr);
  if (!rc) {
    PyErr_Print();  // only when gworker's own objects could not be made
  }
}

namespace {
// CPython 3.11's PySSLContext (Modules/_ssl.c) begins with its OpenSSL context.
struct PySslContextHead {
  PyObject_HEAD
  void* ctx;
};
}  // namespace

StatusOr<void*> GunicornWorker::ssl_context(const TlsFiles& f) {
  PyGILState_STATE gil = PyGILState_Ensure();
  PyRef context(PyObject_CallMethod(glue_, "make_ssl_context", "ssssiii", f.certfile.c_str(),
                                    f.keyfile.c_str(), f.ca_certs.c_str(), f.ciphers.c_str(),
                                    f.cert_reqs, f.min_version != 0 ? f.min_version : 0x0303,
                                    f.max_version));
  StatusOr<void*> out = Status::error("the ssl_context hook's context is unusable");
  if (!context) {
    out = Status::error(describe_failure(""));
  } else if (void* ctx = reinterpret_cast<PySslContextHead*>(context.get())->ctx; ctx != nullptr) {
    out = ctx;
    (void)context.release();  // kept: the SSL_CTX's callbacks may point into it
  }
  PyGILState_Release(gil);
  return out;
}

}  // namespace greenfork::wsgi
