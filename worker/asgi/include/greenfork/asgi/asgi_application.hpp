// AsgiApplication: an ASGI 3 app (asgi.readthedocs.io) on one asyncio loop
// (uvloop when installed) on a thread of its own, the "loop thread".
//
// The engine's I/O thread keeps every socket, the parsing and the
// timeouts; it hands requests over as AsyncExchanges (submit), and reports
// completions and disconnects, all through one EventQueue whose eventfd
// the loop watches: the loop wakes once per batch and never waits on the
// I/O thread. The protocol itself (receive/send, the lifespan) is Python
// embedded in gworker (protocol.cpp), driving the exchanges through the
// `_greenfork_asgi_native` module (native_module.hpp).
//
//   auto app = AsgiApplication::create(app_object, settings, host);   // GIL held
//   ... release the GIL ...
//   Status s = (*app)->start();   // the loop thread, lifespan startup
//   ... engine serves ...
//   (*app)->shutdown();           // lifespan shutdown, loop thread joined
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "greenfork/asgi/event_queue.hpp"
#include "greenfork/asgi/scope.hpp"
#include "greenfork/status.hpp"
#include "greenfork/wsgi/interpreter.hpp"
#include "greenfork/wsgi/reloader.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::asgi {

struct AsgiSettings {
  std::string loop = "auto";      // --asgi-loop auto|asyncio|uvloop
  std::string lifespan = "auto";  // --lifespan auto|on|off
  std::string root_path;          // --root-path
  // Another protocol module with the same serve(app, efd, loop, lifespan)
  // and native-module contract (worker/green/'s WSGI on green threads);
  // borrowed; null: the ASGI protocol.
  PyObject* protocol = nullptr;
};

class AsgiApplication final : public worker::Application, public worker::AsyncApplication {
 public:
  // GIL held (kept). `app` is borrowed.
  static StatusOr<std::unique_ptr<AsgiApplication>> create(PyObject* app, const AsgiSettings& settings,
                                                           worker::WorkerHost& host);
  ~AsgiApplication() override;

  // The tail every loop-thread class (-k asgi, gevent/eventlet) shares: the
  // app for `app` (the GIL held through `gil`, released here), started,
  // and with --reload restarting the worker when an imported file changes.
  static StatusOr<std::unique_ptr<worker::Application>> launch(wsgi::PyRef app,
                                                               const AsgiSettings& settings,
                                                               const worker::AppOptions& options,
                                                               worker::WorkerHost& host,
                                                               wsgi::AppLoadGil& gil);

  // GIL not held. Starts the loop thread and waits until the lifespan
  // startup is over; its failure ("Application startup failed: ...") is
  // the app's load failure.
  Status start();

  // Application: the engine never calls handle() for an async app.
  void handle(worker::Request& request, worker::ResponseWriter& response) override;
  worker::AsyncApplication* async() override { return this; }
  // Main thread, after the last request: lifespan shutdown, loop stopped.
  void shutdown() override;

  // AsyncApplication (I/O thread)
  void submit(worker::AsyncExchange& exchange) override;
  void io_done(worker::AsyncExchange& exchange, bool ok) override;
  void disconnected(worker::AsyncExchange& exchange) override;
  void ws_connect(worker::AsyncWebSocket& ws) override;
  void ws_wake(worker::AsyncWebSocket& ws) override;
  // The protocol module's WEBSOCKETS (True when it has none): the green
  // WSGI protocol says False.
  bool takes_websockets() const override { return websockets_; }
  // The protocol module's DISCONNECT (True when it has none).
  bool wants_disconnect() const override { return disconnect_; }

  // ---- for the native module (loop thread, GIL held) ----
  // The batch as [(kind, handle, ok)]; events of exchanges already
  // finished are dropped.
  PyObject* take_events();
  // A handle's last call: the exchange is forgotten.
  void forget(const void* exchange_or_ws);
  void report_started(bool ok, std::string message);
  worker::WorkerHost& host() { return host_; }
  const ScopeConstants& scope_constants() const { return scope_constants_; }

 private:
  AsgiApplication(worker::WorkerHost& host, AsgiSettings settings)
      : host_(host), settings_(std::move(settings)) {}
  void run_loop();

  worker::WorkerHost& host_;
  AsgiSettings settings_;
  EventQueue queue_;
  PyObject* app_ = nullptr;       // leaked on purpose, as the WSGI gateway's
  PyObject* protocol_ = nullptr;  // the embedded protocol module
  ScopeConstants scope_constants_;
  std::thread loop_thread_;
  std::unique_ptr<wsgi::Reloader> reloader_;  // --reload
  std::promise<Status> started_;
  bool websockets_ = true;
  bool disconnect_ = true;
  bool started_reported_ = false;
  std::atomic<bool> running_{false};
  std::vector<LoopEvent> batch_;                                   // loop thread
  std::unordered_map<const void*, PyObject*> live_;  // exchanges and WebSockets (loop thread)
};

}  // namespace greenfork::asgi
