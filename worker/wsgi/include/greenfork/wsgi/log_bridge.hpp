// _greenfork_log: the builtin module through which Python's gunicorn.error
// and gunicorn.access loggers (gunicorn_glue.py) write into gworker's error
// log (spdlog, so the lines share its format, file and level) and access
// log, and read the worker's request count (worker.nr).
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace greenfork::wsgi {

// Writes one line to the access log; set before the module is used (the
// access handler is installed only when there is an access log).
using AccessLineWriter = std::function<void(std::string_view line)>;

// GIL held. Creates the module and puts it in sys.modules; idempotent.
bool log_bridge_install(AccessLineWriter access);

// Requests handed to the app so far (worker.nr), counted by the gateway.
inline std::atomic<uint64_t> g_requests_handled{0};

// spdlog source-location function name that marks a Python record logged
// with its exception (logger.exception()): statsd counts it as
// gunicorn.log.exception rather than gunicorn.log.error.
inline constexpr const char* kExceptionRecord = "exception";

}  // namespace greenfork::wsgi
