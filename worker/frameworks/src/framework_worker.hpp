// The framework-native worker classes (-k tornado, -k aiohttp): the app is
// served by the framework's own HTTP server (Tornado's HTTPServer,
// aiohttp's AppRunner) on the sockets gworker inherited, run by driver.py on
// an asyncio loop in the embedded interpreter. gworker's HTTP engine is not
// used; gworker keeps the worker contract around it: READY once serving,
// beats from a C++ thread that stop when the loop stops ticking, TERM
// (stop accepting, finish in-flight requests within --graceful-timeout,
// exit 0), INT/QUIT (exit now), USR1 (reopen logs), --max-requests, the
// access log in greenfork's format, exit 4 when the app fails to load.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/server.hpp"
#include "options.hpp"

namespace greenfork::worker {

class AccessLog;

// For a canonical -k name: served by run_framework_worker().
bool is_framework_class(const std::string& worker_class);

// Runs the worker to its end; returns the exit code. `fail(code, message)`
// reports a failure (STATUS=, stderr, error log) and returns `code`.
using FailFn = std::function<int(int code, const std::string& message)>;
int run_framework_worker(const Options& options, const std::vector<Listener>& listeners,
                         AccessLog* access_log, const FailFn& fail);

}  // namespace greenfork::worker
