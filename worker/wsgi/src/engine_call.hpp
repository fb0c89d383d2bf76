// The one way the WSGI gateway calls into the engine (write, flush, finish,
// send_file, body read): with the GIL released, since those calls may wait
// on the client, and with any failure (ClientGone, or a write that cannot
// complete) turned into "the client is gone": AppCall::client_gone set and
// a ConnectionAbortedError raised in Python.
//
//   if (!call_engine(&ex, "write failed", [&] { ex.out->write(data, len); })) return false;
#pragma once

#include <exception>
#include <string>

#include "greenfork/wsgi/app_call.hpp"
#include "greenfork/wsgi/py.hpp"

namespace greenfork::wsgi {

// Runs `io` without the GIL. Returns true when it completed; false with the
// Python error set otherwise. `ex` may be null (a stream used outside its
// request): then only the Python error is set. `fallback` names the failure
// when the exception carries no message.
// `waits` false: `io` cannot wait (ResponseWriter::room() said so), and
// runs with the GIL kept: giving it up would hand it to another thread
// between two requests.
template <typename Io>
bool call_engine(AppCall* ex, const char* fallback, Io&& io, bool waits = true) {
  std::string failure;
  auto run = [&] {
    try {
      io();
    } catch (const std::exception& e) {
      failure = e.what();
      if (failure.empty()) failure = fallback;
    }
  };
  if (waits) {
    GilRelease unlocked;
    run();
  } else {
    run();
  }
  if (failure.empty()) return true;
  if (ex != nullptr) {
    ex->set_client_gone(failure.c_str());
  } else {
    PyErr_Format(PyExc_ConnectionAbortedError, "client disconnected: %s", failure.c_str());
  }
  return false;
}

}  // namespace greenfork::wsgi
