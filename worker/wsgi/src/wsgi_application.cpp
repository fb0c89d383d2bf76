#include "greenfork/wsgi/wsgi_application.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "engine_call.hpp"
#include "greenfork/wsgi/early_hints.hpp"
#include "greenfork/wsgi/error_stream.hpp"
#include "greenfork/wsgi/gunicorn_worker.hpp"
#include "greenfork/wsgi/helper_module.hpp"
#include "greenfork/wsgi/input_stream.hpp"
#include "greenfork/wsgi/py_error.hpp"
#include "greenfork/http_token.hpp"
#include "greenfork/wsgi/start_response.hpp"

namespace greenfork::wsgi {
namespace {

// One app thread's Python state. Never touches Python in its destructor:
// the interpreter may be gone by then.
struct ThreadSlot {
  PyThreadState* tstate = nullptr;
  bool owned = false;  // created by us (not the loading thread's)
  PyObject* input = nullptr;
  PyObject* start_response = nullptr;
  PyObject* early_hints = nullptr;  // environ["wsgi.early_hints"]
  bool turn = false;  // the GIL, held between take_turn() and end_turn()
};

thread_local ThreadSlot t_slot;

// The calling thread's reused request objects (GIL held).
void clear_thread_objects() {
  Py_CLEAR(t_slot.input);
  Py_CLEAR(t_slot.start_response);
  Py_CLEAR(t_slot.early_hints);
}

constexpr size_t kJoinLimit = 64 * 1024;  // small multi-item bodies become one write

std::optional<uint64_t> body_bound(const worker::Request& r) {
  if (r.chunked) return std::nullopt;
  return r.content_length.value_or(0);
}

}  // namespace

WsgiApplication::WsgiApplication(worker::WorkerHost& host, const WsgiSettings& settings)
    : host_(host), inline_(settings.threads == 1) {
  env_config_.script_name = settings.script_name;
}

StatusOr<std::unique_ptr<WsgiApplication>> WsgiApplication::create(
    PyObject* app, const WsgiSettings& settings, worker::WorkerHost& host) {
  std::unique_ptr<WsgiApplication> self(new WsgiApplication(host, settings));
  auto python_error = [](const char* what) {
    PyErr_Print();
    return Status::error(std::string("cannot set up the WSGI gateway: ") + what);
  };
  if (!input_stream_init_type() || !error_stream_init_type() || !start_response_init_types() ||
      !early_hints_init_type()) {
    return python_error("types");
  }
  PyObject* helper = helper_module();
  if (!helper) return python_error("helper module");
  self->file_wrapper_type_ = PyObject_GetAttrString(helper, "FileWrapper");
  self->format_exception_ = PyObject_GetAttrString(helper, "format_exception");
  self->close_name_ = PyUnicode_InternFromString("close");
  if (!self->file_wrapper_type_ || !self->format_exception_ || !self->close_name_) {
    return python_error("helper functions");
  }
  PyRef errors(error_stream_new(&host));
  if (!errors) return python_error("wsgi.errors");
  EnvironConstants constants;
  constants.multithread = settings.threads > 1;
  constants.multiprocess = settings.multiprocess;
  constants.script_name = settings.script_name;
  constants.errors = errors.get();
  constants.file_wrapper = self->file_wrapper_type_;
  if (!self->builder_.init(constants)) return python_error("environ template");
  Py_INCREF(app);
  self->app_ = app;
  self->main_tstate_ = PyThreadState_Get();
  self->interp_ = self->main_tstate_->interp;
  self->main_thread_ = std::this_thread::get_id();
  if (GunicornWorker* w = gunicorn_worker(); w != nullptr && w->has_request_hooks()) self->hooks_ = w;
  return self;
}

// Python objects are leaked on purpose: the interpreter lives as long as the
// process unless shutdown() finalized it.
WsgiApplication::~WsgiApplication() {
  if (reloader_) reloader_->stop();
}

void WsgiApplication::watch_for_changes(std::vector<std::string> patterns) {
  reloader_ = std::make_unique<Reloader>(host_, std::vector<std::string>{});
  reloader_->watch_patterns(std::move(patterns));
  reloader_->start();
}

PyThreadState* WsgiApplication::thread_state() {
  if (!t_slot.tstate) {
    if (std::this_thread::get_id() == main_thread_) {
      t_slot.tstate = main_tstate_;
    } else {
      t_slot.tstate = PyThreadState_New(interp_);
      t_slot.owned = true;
    }
  }
  return t_slot.tstate;
}

void WsgiApplication::thread_started() { thread_state(); }

// The pool's turn is the GIL: kept across back-to-back requests (no switch
// to another thread between them), given up when the queue is empty.
// Other threads still get it through CPython's switch interval, or when a
// request blocks (time.sleep, socket I/O, body reads, response writes).
void WsgiApplication::take_turn() {
  if (t_slot.turn || finalized_) return;
  PyEval_RestoreThread(thread_state());
  t_slot.turn = true;
}

void WsgiApplication::end_turn() {
  if (!t_slot.turn) return;
  t_slot.turn = false;
  PyEval_SaveThread();
}

void WsgiApplication::thread_stopping() {
  end_turn();
  if (!t_slot.tstate || finalized_) return;
  PyEval_RestoreThread(t_slot.tstate);
  clear_thread_objects();
  if (t_slot.owned) {
    PyThreadState_Clear(t_slot.tstate);
    PyThreadState_DeleteCurrent();  // releases the GIL
  } else {
    PyEval_SaveThread();
  }
  t_slot = ThreadSlot{};
}

void WsgiApplication::shutdown() {
  if (reloader_) reloader_->stop();
  if (finalized_ || !Py_IsInitialized()) return;
  finalized_ = true;
  PyEval_RestoreThread(main_tstate_);
  // This thread's reused request objects go before the interpreter does
  // (a start_response owns C++ memory; a later interpreter must not see
  // them). Other app threads cleared theirs in thread_stopping().
  clear_thread_objects();
  // atexit handlers, non-daemon threads, buffered sys.stdout: as in Python.
  if (Py_FinalizeEx() < 0) host_.log_error("Python finalization reported an error");
}

void WsgiApplication::handle(worker::Request& request, worker::ResponseWriter& response) {
  PreparedEnviron prepared = prepare_environ(request, env_config_);  // no GIL needed
  AppCall ex;
  ex.out = &response;
  ex.host = &host_;
  g_requests_handled.fetch_add(1, std::memory_order_relaxed);
  if (t_slot.turn) {
    serve(request, prepared, ex);
  } else {
    GilHold gil(thread_state());
    serve(request, prepared, ex);
  }
  if (ex.client_gone) throw worker::ClientGone(ex.client_gone_reason);
}

void WsgiApplication::serve(worker::Request& request, const PreparedEnviron& prepared,
                            AppCall& ex) {
  if (!t_slot.input) t_slot.input = input_stream_new();
  if (!t_slot.start_response) t_slot.start_response = start_response_new();
  if (!t_slot.early_hints) t_slot.early_hints = early_hints_new();
  PyObject* input = t_slot.input;
  PyObject* sr = t_slot.start_response;
  PyObject* hints = t_slot.early_hints;
  if (!input || !sr || !hints) {
    fail(request, ex);
    return;
  }
  input_stream_attach(input, request.body, &ex, body_bound(request));
  start_response_attach(sr, &ex);
  early_hints_attach(hints, &ex);
  {
    PyRef environ(builder_.build(prepared, request, input));
    static PyObject* const hints_key = PyUnicode_InternFromString("wsgi.early_hints");
    if (environ && (!hints_key || PyDict_SetItem(environ.get(), hints_key, hints) != 0)) {
      environ = PyRef();
    }
    PyRef result;
    PyRef req;
    if (hooks_ != nullptr) {
      // Gunicorn's order: pre_request, the app, post_request (also after a
      // failure). A raising pre_request fails the request like the app.
      req = PyRef(hooks_->make_request(request));
      if (hooks_->has_post_request()) ex.sent_headers = std::make_unique<std::vector<worker::Header>>();
      if (!req || (hooks_->has_pre_request() && !hooks_->pre_request(req.get()))) environ = PyRef();
    }
    if (environ) {
      PyObject* args[] = {environ.get(), sr};
      result = PyRef(PyObject_Vectorcall(app_, args, 2, nullptr));
    }
    if (!result || !send_result(result.get(), ex)) fail(request, ex);
    if (result) close_result(result.get(), request, ex);
    if (hooks_ != nullptr && hooks_->has_post_request() && req) {
      const std::string status =
          ex.started ? std::to_string(ex.status_code) + " " + ex.reason : std::string();
      hooks_->post_request(req.get(), environ.get(), status, *ex.sent_headers, ex.body_written,
                           ex.declared_length);
    }
  }
  input_stream_detach(input);
  start_response_detach(sr);
  early_hints_attach(hints, nullptr);
  // Kept by the app (a stashed environ, a thread): let it go, make new ones.
  if (Py_REFCNT(input) != 1) Py_CLEAR(t_slot.input);
  if (!start_response_reusable(sr)) Py_CLEAR(t_slot.start_response);
  if (Py_REFCNT(hints) != 1) Py_CLEAR(t_slot.early_hints);
}

bool WsgiApplication::send_result(PyObject* result, AppCall& ex) {
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return send_sequence(result, ex);
  if (reinterpret_cast<PyObject*>(Py_TYPE(result)) == file_wrapper_type_) {
    int sent = try_sendfile(result, ex);
    if (sent != 0) return sent > 0;
  }
  return send_iterable(result, ex);
}

bool WsgiApplication::finish(AppCall& ex) {
  if (!ex.begin_response()) return false;
  return call_engine(&ex, "finish failed", [&] { ex.out->finish(); }, ex.out->room() == 0);
}

bool WsgiApplication::send_sequence(PyObject* result, AppCall& ex) {
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
  PyObject** items = PySequence_Fast_ITEMS(result);
  size_t total = 0;
  Py_ssize_t non_empty = 0;
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!PyBytes_Check(items[i])) {
      PyErr_Format(PyExc_TypeError, "response body items must be bytes, not %.100s",
                   Py_TYPE(items[i])->tp_name);
      return false;
    }
    const size_t len = static_cast<size_t>(PyBytes_GET_SIZE(items[i]));
    total += len;
    non_empty += len > 0;
  }
  if (!ex.begin_response()) return false;
  // The list keeps every bytes object alive; bytes are immutable, so they
  // can be read without the GIL.
  const bool sent = call_engine(&ex, "write failed", [&] {
    if (non_empty > 1 && total <= kJoinLimit) {
      std::string joined;
      joined.reserve(total);
      for (Py_ssize_t i = 0; i < n; ++i) {
        joined.append(PyBytes_AS_STRING(items[i]), static_cast<size_t>(PyBytes_GET_SIZE(items[i])));
      }
      ex.out->write(joined.data(), joined.size());
    } else {
      for (Py_ssize_t i = 0; i < n; ++i) {
        const Py_ssize_t len = PyBytes_GET_SIZE(items[i]);
        if (len > 0) ex.out->write(PyBytes_AS_STRING(items[i]), static_cast<size_t>(len));
      }
    }
    ex.out->finish();
  }, total >= ex.out->room());
  if (!sent) return false;
  ex.wrote_body = total > 0;
  ex.body_written += total;
  return true;
}

int WsgiApplication::try_sendfile(PyObject* result, AppCall& ex) {
  PyRef filelike(PyObject_GetAttrString(result, "filelike"));
  PyRef fileno(filelike ? PyObject_CallMethod(filelike.get(), "fileno", nullptr) : nullptr);
  const long fd = fileno ? PyLong_AsLong(fileno.get()) : -1;
  struct stat st{};
  if (fd < 0 || PyErr_Occurred() || ::fstat(static_cast<int>(fd), &st) != 0 || !S_ISREG(st.st_mode)) {
    PyErr_Clear();
    return 0;  // not a real file: iterate it
  }
  off_t offset = -1;
  if (PyRef pos{PyObject_CallMethod(filelike.get(), "tell", nullptr)}) {
    offset = static_cast<off_t>(PyLong_AsLongLong(pos.get()));
  }
  if (offset < 0 || PyErr_Occurred()) {
    PyErr_Clear();
    offset = ::lseek(static_cast<int>(fd), 0, SEEK_CUR);
    if (offset < 0) return 0;
  }
  uint64_t count = st.st_size > offset ? static_cast<uint64_t>(st.st_size - offset) : 0;
  for (const worker::Header& h : ex.headers) {
    if (http_token::iequals(h.name, "content-length")) {
      char* end = nullptr;
      unsigned long long cl = std::strtoull(h.value.c_str(), &end, 10);
      if (end && *end == '\0' && !h.value.empty()) count = std::min<uint64_t>(count, cl);
    }
  }
  if (!ex.begin_response()) return -1;
  if (!call_engine(&ex, "sendfile failed", [&] {
        if (count > 0) ex.out->send_file(static_cast<int>(fd), offset, count);
        ex.out->finish();
      })) {
    return -1;
  }
  ex.wrote_body = count > 0;
  ex.body_written += count;
  return 1;
}

bool WsgiApplication::send_iterable(PyObject* result, AppCall& ex) {
  PyRef it(PyObject_GetIter(result));
  if (!it) return false;
  while (PyRef item{PyIter_Next(it.get())}) {
    if (!PyBytes_Check(item.get())) {
      PyErr_Format(PyExc_TypeError, "response body items must be bytes, not %.100s",
                   Py_TYPE(item.get())->tp_name);
      return false;
    }
    const Py_ssize_t len = PyBytes_GET_SIZE(item.get());
    if (len > 0 && !ex.write_body(PyBytes_AS_STRING(item.get()), static_cast<size_t>(len))) {
      return false;
    }
  }
  if (PyErr_Occurred()) return false;
  return finish(ex);
}

void WsgiApplication::log_exception(const std::string& context, PyObject* exc) {
  std::string text;
  PyRef formatted(exc ? PyObject_CallOneArg(format_exception_, exc) : nullptr);
  const char* s = formatted ? PyUnicode_AsUTF8(formatted.get()) : nullptr;
  if (s) {
    text = s;
  } else {
    PyErr_Clear();
    text = "(traceback unavailable)";
  }
  host_.log_error(context + "\n" + text);
}

void WsgiApplication::fail(worker::Request& request, AppCall& ex) {
  PyRef v = take_exception();
  if (ex.client_gone) return;  // the exception only says the client left
  log_exception("Error handling request " + request.method + " " + request.target, v.get());
  if (ex.wrote_body || ex.out->committed()) {
    ex.out->abort();
    return;
  }
  static constexpr char kBody[] = "Internal Server Error\n";
  std::vector<worker::Header> headers = {
      {"Content-Type", "text/plain; charset=utf-8"},
      {"Content-Length", std::to_string(sizeof kBody - 1)}};
  if (ex.sent_headers) *ex.sent_headers = headers;
  Status st = ex.out->start(500, "Internal Server Error", std::move(headers));
  if (!st.ok()) {
    ex.out->abort();
    return;
  }
  ex.started = true;
  ex.status_code = 500;
  ex.reason = "Internal Server Error";
  ex.body_written = sizeof kBody - 1;
  GilRelease unlocked;
  try {
    ex.out->write(kBody, sizeof kBody - 1);
    ex.out->finish();
  } catch (const std::exception& e) {
    ex.client_gone = true;
    ex.client_gone_reason = e.what();
  }
}

void WsgiApplication::close_result(PyObject* result, worker::Request& request, AppCall& ex) {
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result) || PyBytes_CheckExact(result)) return;
  PyRef close(PyObject_GetAttr(result, close_name_));
  if (!close) {
    PyErr_Clear();  // no close(): nothing to call
    return;
  }
  PyRef rc(PyObject_CallNoArgs(close.get()));
  if (rc) return;
  PyRef v = take_exception();
  if (!ex.client_gone) {
    log_exception("Error closing the response of " + request.method + " " + request.target, v.get());
  }
}

}  // namespace greenfork::wsgi
