// NativeApplication: an Application backed by a shared library that speaks
// the C ABI of greenfork/worker/native_app.h.
//
//   auto app = load_native_application("/opt/libapp.so?x=1", host);
//   if (!app.ok()) { print(app.status().message()); exit(4); }
#pragma once

#include <memory>
#include <string>

#include "greenfork/worker/app.hpp"

namespace greenfork::worker {

// `spec` is what follows "native:": "PATH" or "PATH?ARGS". Errors name the
// path and the missing symbol, the dlerror() text, or the init reason.
StatusOr<std::unique_ptr<Application>> load_native_application(const std::string& spec,
                                                                WorkerHost& host);

}  // namespace greenfork::worker
