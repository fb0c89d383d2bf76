#include "greenfork/asgi/asgi_application.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "greenfork/wsgi/py_error.hpp"
#include "native_module.hpp"
#include "protocol.hpp"

namespace greenfork::asgi {

StatusOr<std::unique_ptr<AsgiApplication>> AsgiApplication::create(PyObject* app,
                                                                   const AsgiSettings& settings,
                                                                   worker::WorkerHost& host) {
  std::unique_ptr<AsgiApplication> self(new AsgiApplication(host, settings));
  if (Status s = self->queue_.open(); !s.ok()) return s;
  auto python_error = [](const char* what) {
    PyErr_Print();
    return Status::error(std::string("cannot set up the ASGI gateway: ") + what);
  };
  if (native_module(self.get()) == nullptr) return python_error("native module");
  self->protocol_ = settings.protocol != nullptr ? settings.protocol : protocol_module();
  if (self->protocol_ == nullptr) return python_error("protocol module");
  // The protocol module's optional flags (the green WSGI protocol's False).
  for (auto [name, flag] : {std::pair{"WEBSOCKETS", &self->websockets_},
                            std::pair{"DISCONNECT", &self->disconnect_}}) {
    if (!PyObject_HasAttrString(self->protocol_, name)) continue;
    wsgi::PyRef value(PyObject_GetAttrString(self->protocol_, name));
    const int set = value ? PyObject_IsTrue(value.get()) : -1;
    if (set < 0) return python_error(name);
    *flag = set != 0;
  }
  self->scope_constants_.root_path = wsgi::PyRef(PyUnicode_DecodeUTF8(
      settings.root_path.data(), static_cast<Py_ssize_t>(settings.root_path.size()), "replace"));
  if (!self->scope_constants_.root_path) return python_error("root_path");
  Py_INCREF(app);
  self->app_ = app;
  return self;
}

StatusOr<std::unique_ptr<worker::Application>> AsgiApplication::launch(
    wsgi::PyRef app, const AsgiSettings& settings, const worker::AppOptions& options,
    worker::WorkerHost& host, wsgi::AppLoadGil& gil) {
  StatusOr<std::unique_ptr<AsgiApplication>> made = create(app.get(), settings, host);
  app = wsgi::PyRef();
  gil.release();
  if (!made.ok()) return made.status();
  if (Status s = (*made)->start(); !s.ok()) return s;
  if (options.reload) {
    // Started after the lifespan startup, so that the modules it imported
    // are watched too.
    (*made)->reloader_ = std::make_unique<wsgi::Reloader>(host, std::vector<std::string>{});
    (*made)->reloader_->watch_patterns(options.reload_extra_files);
    (*made)->reloader_->start();
  }
  return std::unique_ptr<worker::Application>(std::move(*made));
}

AsgiApplication::~AsgiApplication() {
  if (reloader_) reloader_->stop();
  // The loop thread holds Python objects: it must have ended (shutdown()),
  // or the process is exiting without joining it (a forced stop).
  if (loop_thread_.joinable()) loop_thread_.detach();
}

Status AsgiApplication::start() {
  std::future<Status> outcome = started_.get_future();
  loop_thread_ = std::thread([this] { run_loop(); });
  Status s = outcome.get();
  if (!s.ok()) {
    loop_thread_.join();
    return s;
  }
  running_ = true;
  return {};
}

void AsgiApplication::run_loop() {
  const PyGILState_STATE gil = PyGILState_Ensure();
  wsgi::PyRef result(PyObject_CallMethod(protocol_, "serve", "Oiss", app_, queue_.fd(),
                                         settings_.loop.c_str(), settings_.lifespan.c_str()));
  std::string failure;
  if (!result) {
    wsgi::PyRef exc = wsgi::take_exception();
    const std::string why = wsgi::exception_str(exc.get());
    failure = "the ASGI event loop failed: " + (why.empty() ? std::string("unknown error") : why);
  }
  PyGILState_Release(gil);
  if (!started_reported_) {
    report_started(false, failure.empty() ? "the ASGI event loop ended before startup" : failure);
  } else if (running_) {
    // The loop ended while the worker serves: nothing would answer its
    // requests. Drain and exit, so that arbiterd starts a fresh worker.
    const std::string why = failure.empty() ? "the ASGI event loop stopped" : failure;
    host_.log_error(why);
    host_.request_restart(why);
  } else if (!failure.empty()) {
    host_.log_error(failure);
  }
}

void AsgiApplication::report_started(bool ok, std::string message) {
  if (started_reported_) return;
  started_reported_ = true;
  started_.set_value(ok ? Status{} : Status::error(std::move(message)));
}

void AsgiApplication::handle(worker::Request&, worker::ResponseWriter& response) {
  // Unreachable: the engine hands an async app its requests through submit().
  (void)response.start(500, "Internal Server Error", {});
  response.finish();
}

void AsgiApplication::shutdown() {
  if (reloader_) reloader_->stop();
  if (!running_) return;
  running_ = false;
  queue_.push({LoopEvent::kStop, nullptr, true});
  loop_thread_.join();
}

void AsgiApplication::submit(worker::AsyncExchange& exchange) {
  queue_.push({LoopEvent::kSubmit, &exchange, true});
}

void AsgiApplication::io_done(worker::AsyncExchange& exchange, bool ok) {
  queue_.push({LoopEvent::kIoDone, &exchange, ok});
}

void AsgiApplication::disconnected(worker::AsyncExchange& exchange) {
  queue_.push({LoopEvent::kDisconnected, &exchange, true});
}

void AsgiApplication::ws_connect(worker::AsyncWebSocket& ws) {
  queue_.push({LoopEvent::kWsConnect, nullptr, true, &ws});
}

void AsgiApplication::ws_wake(worker::AsyncWebSocket& ws) {
  queue_.push({LoopEvent::kWsWake, nullptr, true, &ws});
}

PyObject* AsgiApplication::take_events() {
  queue_.take(batch_);
  wsgi::PyRef list(PyList_New(0));
  if (!list) return nullptr;
  for (const LoopEvent& e : batch_) {
    PyObject* handle = Py_None;
    if (e.kind == LoopEvent::kSubmit) {
      handle = exchange_handle_new(e.exchange);
      if (handle == nullptr) return nullptr;
      live_[e.exchange] = handle;  // the map's reference
    } else if (e.kind == LoopEvent::kWsConnect) {
      handle = websocket_handle_new(e.ws);
      if (handle == nullptr) return nullptr;
      live_[e.ws] = handle;
    } else if (e.kind != LoopEvent::kStop) {
      // A disconnect may come after the app's last call on the exchange
      // (and a WebSocket's wake after its done()).
      const void* key = e.kind == LoopEvent::kWsWake ? static_cast<const void*>(e.ws)
                                                      : static_cast<const void*>(e.exchange);
      auto it = live_.find(key);
      if (it == live_.end()) continue;
      handle = it->second;
    }
    wsgi::PyRef item(Py_BuildValue("(iOO)", static_cast<int>(e.kind), handle,
                                   e.ok ? Py_True : Py_False));
    if (!item || PyList_Append(list.get(), item.get()) != 0) return nullptr;
  }
  return list.release();
}

void AsgiApplication::forget(const void* exchange) {
  auto it = live_.find(exchange);
  if (it == live_.end()) return;
  PyObject* handle = it->second;
  live_.erase(it);
  Py_DECREF(handle);
}

}  // namespace greenfork::asgi
