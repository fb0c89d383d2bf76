// A loaded WSGI callable served through the engine (PEP 3333).
//
// Per request, on an app thread (or, with one app thread, on gworker's I/O
// thread when the body is buffered): the environ's C++ side is prepared without
// the GIL; then one GIL section builds the dict, calls the app and walks
// the result, giving the GIL up around every body read and response write.
// Each app thread keeps its own PyThreadState (thread_started/stopping)
// and reuses its wsgi.input and start_response objects when the app kept
// no reference to them.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <memory>
#include <string>
#include <thread>

#include "greenfork/wsgi/environ_builder.hpp"
#include "greenfork/wsgi/app_call.hpp"
#include "greenfork/wsgi/reloader.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

struct WsgiSettings {
  unsigned threads = 1;
  bool multiprocess = true;
  std::string script_name;  // normalized $SCRIPT_NAME
};

class GunicornWorker;

class WsgiApplication final : public worker::Application {
 public:
  // GIL held by the calling thread, whose thread state serves as the main
  // one. Takes a reference to `app`.
  static StatusOr<std::unique_ptr<WsgiApplication>> create(PyObject* app,
                                                           const WsgiSettings& settings,
                                                           worker::WorkerHost& host);
  ~WsgiApplication() override;

  void handle(worker::Request& request, worker::ResponseWriter& response) override;
  void thread_started() override;
  void thread_stopping() override;
  void take_turn() override;
  void end_turn() override;
  void shutdown() override;
  // One app thread (the sync worker): requests run on the I/O thread.
  bool runs_inline() const override { return inline_; }

  // --reload: watch imported files (and `patterns`' matches) from now on.
  // GIL not held.
  void watch_for_changes(std::vector<std::string> patterns = {});

 private:
  WsgiApplication(worker::WorkerHost& host, const WsgiSettings& settings);
  PyThreadState* thread_state();
  void serve(worker::Request& request, const PreparedEnviron& prepared, AppCall& ex);
  bool send_result(PyObject* result, AppCall& ex);
  bool send_sequence(PyObject* result, AppCall& ex);
  int try_sendfile(PyObject* result, AppCall& ex);  // 1 sent, 0 not a real file, -1 error
  bool send_iterable(PyObject* result, AppCall& ex);
  bool finish(AppCall& ex);
  void fail(worker::Request& request, AppCall& ex);
  void close_result(PyObject* result, worker::Request& request, AppCall& ex);
  void log_exception(const std::string& context, PyObject* exc);

  worker::WorkerHost& host_;
  EnvironConfig env_config_;
  EnvironBuilder builder_;
  PyObject* app_ = nullptr;
  PyObject* file_wrapper_type_ = nullptr;
  PyObject* format_exception_ = nullptr;
  PyObject* close_name_ = nullptr;
  PyInterpreterState* interp_ = nullptr;
  PyThreadState* main_tstate_ = nullptr;  // the loading thread's, GIL released
  std::thread::id main_thread_;
  std::unique_ptr<Reloader> reloader_;
  const GunicornWorker* hooks_ = nullptr;  // only when pre/post_request are defined
  bool finalized_ = false;
  bool inline_ = false;
};

}  // namespace greenfork::wsgi
